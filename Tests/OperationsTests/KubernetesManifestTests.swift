import Foundation
import Glibc
import MeshTestSupport
import Testing

/// `deploy/kubernetes/*.yaml` (issue 6): parsed with PyYAML (through a Python one-liner that prints JSON), then
/// checked where a mistake would break a rollout: kinds and apiVersions, the config's admin address against
/// the probes, the mounted ConfigMap (a directory, so `..data` swaps are seen) holding a `routes.json` that
/// `meshgate check` accepts, and a termination grace period that covers preStop sleeps plus the drain.
@Suite struct KubernetesManifestTests {
    typealias Object = [String: Any]

    static let repository: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()

    static let known: Set<String> = ["v1/ConfigMap", "v1/Service", "apps/v1/Deployment", "apps/v1/StatefulSet"]
    static let files = ["sidecar-deployment.yaml", "gateway-deployment.yaml", "backends.yaml"]

    static func isWorkload(_ object: Object) -> Bool {
        ["Deployment", "StatefulSet"].contains(object["kind"] as? String ?? "")
    }

    @Test(arguments: ["sidecar-deployment.yaml", "gateway-deployment.yaml"])
    func manifestIsConsistent(file: String) throws {
        let documents = try KubernetesManifestTests.load(
            KubernetesManifestTests.repository + "/deploy/kubernetes/" + file)
        let kinds = documents.map { "\($0["apiVersion"] as? String ?? "?")/\($0["kind"] as? String ?? "?")" }
        #expect(Set(kinds).isSubset(of: KubernetesManifestTests.known), "\(file): \(kinds)")
        let configMaps = documents.filter { $0["kind"] as? String == "ConfigMap" }
        let deployments = documents.filter(KubernetesManifestTests.isWorkload)
        let services = documents.filter { $0["kind"] as? String == "Service" }
        #expect(deployments.count == 1)
        for deployment in deployments {
            try checkDeployment(deployment, configMaps: configMaps, services: services, file: file)
        }
    }

    /// Every Service name an upstream of a shipped config resolves (`<name>.default.svc.cluster.local`) is
    /// defined by the manifests; a workload that keeps SQLite data is one replica with its own volume; every
    /// container that must not run as root names a numeric user (an image's user name cannot be verified).
    @Test func theManifestsTogetherServeEveryUpstreamAndKeepDataSafe() throws {
        var documents: [Object] = []
        for file in KubernetesManifestTests.files {
            documents += try KubernetesManifestTests.load(KubernetesManifestTests.repository + "/deploy/kubernetes/" + file)
        }
        let services = Set(documents.filter { $0["kind"] as? String == "Service" }.compactMap {
            ($0["metadata"] as? Object)?["name"] as? String
        })
        for configMap in documents where configMap["kind"] as? String == "ConfigMap" {
            guard let routes = (configMap["data"] as? [String: String])?["routes.json"],
                let config = try JSONSerialization.jsonObject(with: Data(routes.utf8)) as? Object
            else { continue }
            for (name, value) in config["upstreams"] as? Object ?? [:] {
                for endpoint in (value as? Object)?["endpoints"] as? [String] ?? [] where endpoint.contains(".svc.") {
                    let service = String(endpoint.prefix { $0 != "." })
                    #expect(services.contains(service), "upstream \(name): no Service \(service) in \(services)")
                }
            }
        }
        for workload in documents where KubernetesManifestTests.isWorkload(workload) {
            let spec = workload["spec"] as? Object ?? [:]
            let podSpec = (spec["template"] as? Object)?["spec"] as? Object ?? [:]
            let containers = (podSpec["containers"] as? [Object] ?? []) + (podSpec["initContainers"] as? [Object] ?? [])
            let name = (workload["metadata"] as? Object)?["name"] as? String ?? "?"
            let keepsData = containers.contains { ($0["args"] as? [String] ?? []).contains("--data-dir") }
            if keepsData {
                #expect(workload["kind"] as? String == "StatefulSet", "\(name) keeps data: StatefulSet")
                #expect(spec["replicas"] as? Int == 1, "\(name): one SQLite file, one replica")
                #expect((spec["volumeClaimTemplates"] as? [Object] ?? []).count == 1, "\(name): a volume of its own")
            }
            for container in containers {
                let security = container["securityContext"] as? Object ?? [:]
                #expect(security["runAsNonRoot"] as? Bool == true, "\(name)/\(container["name"] ?? "?"): non-root")
                #expect((security["runAsUser"] as? Int ?? 0) > 0, "\(name)/\(container["name"] ?? "?"): numeric user")
            }
        }
    }

    @Test func exampleSidecarConfigPassesCheck() throws {
        let result = try GatewayProcess.command([
            "check", "--config", KubernetesManifestTests.repository + "/examples/sidecar.json",
        ])
        #expect(result.termination == .exited(0), "\(result.stdout)\(result.stderr)")
    }

    private func checkDeployment(_ deployment: Object, configMaps: [Object], services: [Object], file: String) throws {
        let spec = deployment["spec"] as? Object ?? [:]
        let template = spec["template"] as? Object ?? [:]
        let podSpec = template["spec"] as? Object ?? [:]
        let labels = (template["metadata"] as? Object)?["labels"] as? [String: String] ?? [:]
        let selector = (spec["selector"] as? Object)?["matchLabels"] as? [String: String] ?? ["": ""]
        #expect(selector.allSatisfy { labels[$0.key] == $0.value }, "\(file): selector does not match the Pod labels")

        // meshgate is a container, or a native sidecar (an init container that keeps running).
        let containers = podSpec["containers"] as? [Object] ?? []
        let sidecars = (podSpec["initContainers"] as? [Object] ?? []).filter {
            $0["restartPolicy"] as? String == "Always"
        }
        guard let meshgate = (containers + sidecars).first(where: { $0["name"] as? String == "meshgate" }) else {
            Issue.record("\(file): no meshgate container")
            return
        }
        guard let routes = mountedConfig(meshgate, podSpec: podSpec, configMaps: configMaps, file: file) else { return }
        try expectCheckPasses(routes, file: file)
        let config = try JSONSerialization.jsonObject(with: Data(routes.utf8)) as? Object ?? [:]
        checkProbesAndPorts(meshgate, config: config, services: services, file: file)

        // Termination: every preStop sleep in the Pod, then drain_grace_ms + drain_timeout_ms, must fit the
        // grace period.
        let limits = config["limits"] as? Object ?? [:]
        let drainMs = (limits["drain_grace_ms"] as? Int ?? 0) + (limits["drain_timeout_ms"] as? Int ?? 15_000)
        let sleeps = (containers + sidecars).map(preStopSleepSeconds)
        #expect(preStopSleepSeconds(meshgate) > 0, "\(file): meshgate needs a preStop sleep")
        let grace = podSpec["terminationGracePeriodSeconds"] as? Int ?? 30
        #expect(
            grace * 1000 >= sleeps.reduce(0, +) * 1000 + drainMs,
            "\(file): terminationGracePeriodSeconds \(grace) < preStop \(sleeps) s + drain \(drainMs) ms")

        if config["app"] != nil {
            checkSidecar(config, containers: containers, file: file)
        } else {
            checkEdge(config, file: file)
        }
    }

    /// The text of the file meshgate's `--config` names, from the ConfigMap mounted (as a whole directory: a
    /// subPath mount never sees updates) at its directory; nil (with an issue recorded) when it is not there.
    private func mountedConfig(_ meshgate: Object, podSpec: Object, configMaps: [Object], file: String) -> String? {
        let args = meshgate["args"] as? [String] ?? []
        guard let flag = args.firstIndex(of: "--config"), flag + 1 < args.count,
            let slash = args[flag + 1].lastIndex(of: "/")
        else {
            Issue.record("\(file): meshgate has no --config with a directory")
            return nil
        }
        let directory = String(args[flag + 1][..<slash])
        let fileName = String(args[flag + 1][args[flag + 1].index(after: slash)...])
        let mounts = meshgate["volumeMounts"] as? [Object] ?? []
        let mount = mounts.first { $0["mountPath"] as? String == directory }
        #expect(mount != nil && mount?["subPath"] == nil, "\(file): \(directory) must be a directory mount")
        let volume = (podSpec["volumes"] as? [Object] ?? []).first {
            $0["name"] as? String == mount?["name"] as? String
        }
        let configMapName = (volume?["configMap"] as? Object)?["name"] as? String
        let configMap = configMaps.first { ($0["metadata"] as? Object)?["name"] as? String == configMapName }
        guard let routes = (configMap?["data"] as? [String: String])?[fileName] else {
            Issue.record("\(file): the mounted ConfigMap has no \(fileName)")
            return nil
        }
        return routes
    }

    /// Probes hit the Pod IP: the admin listener listens on all interfaces, on the probes' port. Listeners
    /// off loopback are declared container ports, and every Service targets one of them.
    private func checkProbesAndPorts(_ meshgate: Object, config: Object, services: [Object], file: String) {
        let admin = ((config["admin"] as? Object)?["address"] as? String) ?? "127.0.0.1:9901"
        let adminPort = Int(admin.split(separator: ":").last ?? "") ?? -1
        #expect(admin.hasPrefix("0.0.0.0:"), "\(file): admin \(admin) is not reachable by the kubelet")
        for (probe, path) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
            let get = (meshgate[probe] as? Object)?["httpGet"] as? Object
            #expect(get?["path"] as? String == path, "\(file): \(probe) path")
            #expect(
                port(get?["port"], in: meshgate) == adminPort,
                "\(file): \(probe) port is not the admin port \(adminPort)")
        }
        let declared = Set((meshgate["ports"] as? [Object] ?? []).compactMap { $0["containerPort"] as? Int })
        for listener in config["listeners"] as? [Object] ?? [] {
            let address = listener["address"] as? String ?? ""
            guard !address.hasPrefix("127.") else { continue }
            #expect(
                declared.contains(Int(address.split(separator: ":").last ?? "") ?? -1),
                "\(file): \(address) not declared")
        }
        for service in services {
            for servicePort in ((service["spec"] as? Object)?["ports"] as? [Object]) ?? [] {
                let target = port(servicePort["targetPort"], in: meshgate)
                #expect(
                    target != nil && declared.contains(target!),
                    "\(file): Service targets \(String(describing: servicePort["targetPort"]))")
            }
        }
    }

    /// Sidecar: the app's health URL and the "app" upstream point at the port the app container listens on.
    private func checkSidecar(_ config: Object, containers: [Object], file: String) {
        let health = ((config["app"] as? Object)?["health_url"] as? String) ?? ""
        let appEndpoints = ((config["upstreams"] as? Object)?["app"] as? Object)?["endpoints"] as? [String] ?? []
        let app = containers.first { $0["name"] as? String != "meshgate" }
        let args = app?["args"] as? [String] ?? []
        let listen = args.firstIndex(of: "--listen").map { args[$0 + 1] } ?? "?"
        #expect(health.hasPrefix("http://\(listen)/"), "\(file): health_url \(health) vs app --listen \(listen)")
        #expect(appEndpoints == [listen], "\(file): app upstream \(appEndpoints) vs --listen \(listen)")
    }

    /// Edge: upstreams are reached by Kubernetes Service DNS names, re-resolved periodically.
    private func checkEdge(_ config: Object, file: String) {
        for (name, value) in config["upstreams"] as? Object ?? [:] {
            let upstream = value as? Object ?? [:]
            for endpoint in upstream["endpoints"] as? [String] ?? [] {
                #expect(endpoint.contains(".svc.cluster.local:"), "\(file): upstream \(name) endpoint \(endpoint)")
            }
        }
    }

    /// A probe or Service port: a number, or a named port of `container`.
    private func port(_ value: Any?, in container: Object) -> Int? {
        if let number = value as? Int { return number }
        guard let name = value as? String else { return nil }
        let ports = container["ports"] as? [Object] ?? []
        return ports.first { $0["name"] as? String == name }?["containerPort"] as? Int
    }

    /// Seconds of a `preStop` `sleep` action (or `exec: sleep N`), else 0.
    private func preStopSleepSeconds(_ container: Object) -> Int {
        let preStop = (container["lifecycle"] as? Object)?["preStop"] as? Object
        if let seconds = (preStop?["sleep"] as? Object)?["seconds"] as? Int { return seconds }
        let command = (preStop?["exec"] as? Object)?["command"] as? [String] ?? []
        if command.first == "sleep", command.count == 2 { return Int(command[1]) ?? 0 }
        return 0
    }

    private func expectCheckPasses(_ routes: String, file: String) throws {
        let directory = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(directory) }
        try ChildProcess.writeFile(directory + "/routes.json", routes)
        let result = try GatewayProcess.command(["check", "--config", directory + "/routes.json"])
        #expect(result.termination == .exited(0), "\(file): meshgate check failed:\n\(result.stderr)")
    }

    /// Every YAML document of `path` as JSON objects, parsed by PyYAML's safe loader.
    static func load(_ path: String) throws -> [Object] {
        let directory = try GatewayProcess.makeTempDirectory()
        defer { GatewayProcess.removeDirectory(directory) }
        let script =
            "import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(open(sys.argv[1])) if d], sys.stdout)"
        let child = try ChildProcess(
            path: try SidecarApp.python(), arguments: ["-c", script, path], outputPrefix: directory + "/yaml")
        guard child.wait(timeoutMs: 15_000) == .exited(0) else {
            throw TestSupportError("PyYAML could not parse \(path): \(child.stderr)")
        }
        return try JSONSerialization.jsonObject(with: Data(child.stdout.utf8)) as? [Object] ?? []
    }
}
