import Glibc
import MeshGateway

// meshgate [run] [--config PATH] [--workers N] [--log-level LEVEL] [-- APP ARGS...]
// meshgate check [--config PATH] | demo | version      (SPEC §2)
exit(CommandLineInterface.main(Array(CommandLine.arguments.dropFirst())))
