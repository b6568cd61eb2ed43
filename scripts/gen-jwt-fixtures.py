#!/usr/bin/env python3
"""Generate MeshJWT test fixtures: a JWKS and a table of tokens (valid ones for every algorithm, and attacks).

Uses joserfc (+ cryptography) so the tokens come from an independent implementation. Output (committed, so the
Swift tests need no Python):
  Tests/MeshJWTTests/Fixtures/generated/jwks.json    public keys + one oct key (a file-sourced JWKS)
  Tests/MeshJWTTests/Fixtures/generated/tokens.json  {"policy": ..., "now": ..., "cases": [...]}
Each case: id, token, expect ("accept" or a JWTError label), header and payload (decoded, for reading), and
optionally "algorithms" overriding the policy's allow-list. Valid tokens expire in 2033 (exp 2001001001),
like Envoy's jwt_authn fixtures. Re-running produces new keys and tokens; commit both files together.

Run: python3 scripts/gen-jwt-fixtures.py
"""
import base64
import hashlib
import hmac
import json
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwk, jwt

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "Tests", "MeshJWTTests", "Fixtures", "generated"))
NOW = 1_900_000_000          # 2030-03-17, the verification time used by every case
EXP = 2_001_001_001          # 2033-05-28
ISSUER = "https://issuer.example"
AUDIENCE = "meshgate"
LEEWAY = 30
ALL_ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
            "ES256", "ES384", "ES512", "EdDSA"]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact_json(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def claims(**overrides):
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-42", "iat": NOW - 60, "nbf": NOW - 60, "exp": EXP,
            "scope": "profile:read profile:write"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


# --- keys -------------------------------------------------------------------------------------------------
KEYS = {
    "rsa-1": jwk.generate_key("RSA", 2048, parameters={"kid": "rsa-1"}),
    "ec-256": jwk.generate_key("EC", "P-256", parameters={"kid": "ec-256"}),
    "ec-384": jwk.generate_key("EC", "P-384", parameters={"kid": "ec-384"}),
    "ec-521": jwk.generate_key("EC", "P-521", parameters={"kid": "ec-521"}),
    "ed-1": jwk.generate_key("OKP", "Ed25519", parameters={"kid": "ed-1"}),
    "oct-1": jwk.generate_key("oct", 512, parameters={"kid": "oct-1"}),
}
ATTACKER_EC = jwk.generate_key("EC", "P-256", parameters={"kid": "ec-256"})
WEAK_RSA = jwk.generate_key("RSA", 1024, parameters={"kid": "rsa-weak"})
ENC_EC = jwk.generate_key("EC", "P-256", parameters={"kid": "enc-1", "use": "enc"})
ALG_KEY = {"HS256": "oct-1", "HS384": "oct-1", "HS512": "oct-1", "RS256": "rsa-1", "RS384": "rsa-1",
           "RS512": "rsa-1", "PS256": "rsa-1", "PS384": "rsa-1", "PS512": "rsa-1", "ES256": "ec-256",
           "ES384": "ec-384", "ES512": "ec-521", "EdDSA": "ed-1"}


def jwks_document():
    keys = [KEYS[k].as_dict(private=False) for k in ["rsa-1", "ec-256", "ec-384", "ec-521", "ed-1"]]
    keys.append(KEYS["oct-1"].as_dict(private=True))  # file-sourced JWKS may carry HMAC keys (SPEC §3)
    keys.append(WEAK_RSA.as_dict(private=False))       # skipped: RSA < 2048 bits
    keys.append(ENC_EC.as_dict(private=False))         # skipped: use "enc"
    return {"keys": keys}


# --- token builders ---------------------------------------------------------------------------------------
def encode(alg, payload, kid=None, key=None, extra_header=None):
    """A token produced by joserfc."""
    kid = kid if kid is not None else ALG_KEY[alg]
    header = {"alg": alg, "kid": kid}
    header.update(extra_header or {})
    return jwt.encode(header, payload, key or KEYS[ALG_KEY[alg]], algorithms=[alg])


def manual(header, payload_bytes, sign):
    """A token assembled by hand (for headers joserfc refuses to emit). `sign(signing_input) -> bytes`."""
    signing_input = b64(compact_json(header)) + "." + b64(payload_bytes)
    return signing_input + "." + b64(sign(signing_input.encode()))


def ecdsa_der_sign(key, data: bytes) -> bytes:
    private = serialization.load_pem_private_key(key.as_pem(private=True), password=None)
    return private.sign(data, ec.ECDSA(hashes.SHA256()))


def ecdsa_raw_sign(key, data: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    r, s = decode_dss_signature(ecdsa_der_sign(key, data))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def parts(token):
    return token.split(".")


# --- cases ------------------------------------------------------------------------------------------------
def build_cases():
    cases = []

    def add(case_id, token, expect, **extra):
        cases.append({"id": case_id, "token": token, "expect": expect, **extra})

    for alg in ALL_ALGS:
        add(f"valid-{alg}", encode(alg, claims()), "accept")
    add("valid-ES256-no-kid", jwt.encode({"alg": "ES256"}, claims(), KEYS["ec-256"], algorithms=["ES256"]), "accept")
    add("valid-aud-array", encode("ES256", claims(aud=["other", AUDIENCE])), "accept")
    add("valid-exp-within-leeway", encode("ES256", claims(exp=NOW - LEEWAY + 1)), "accept")
    add("valid-ignores-jku-x5u", encode("ES256", claims(), extra_header={
        "jku": "https://attacker.example/jwks.json", "x5u": "https://attacker.example/cert.pem"}), "accept")

    good = encode("ES256", claims())
    h, p, s = parts(good)
    for spelling in ["none", "None", "NONE", "nOnE"]:
        add(f"alg-{spelling}", b64(compact_json({"alg": spelling})) + "." + p + ".", "algorithm_none")
    add("alg-none-with-signature", b64(compact_json({"alg": "none", "kid": "ec-256"})) + "." + p + "." + s,
        "algorithm_none")

    rsa_pem = KEYS["rsa-1"].as_pem(private=False)
    add("hs256-with-rsa-public-pem-as-secret",
        manual({"alg": "HS256", "kid": "rsa-1"}, compact_json(claims()),
               lambda data: hmac.new(rsa_pem, data, hashlib.sha256).digest()), "key_type_mismatch")
    add("es384-header-on-p256-key", manual({"alg": "ES384", "kid": "ec-256"}, compact_json(claims()),
                                           lambda d: ecdsa_raw_sign(KEYS["ec-256"], d)), "key_type_mismatch")
    add("alg-not-in-allow-list", encode("RS256", claims()), "algorithm_not_allowed", algorithms=["ES256", "EdDSA"])
    add("alg-unknown", manual({"alg": "XS256", "kid": "ec-256"}, compact_json(claims()), lambda d: b"x"),
        "algorithm_not_allowed")
    add("unknown-kid", encode("ES256", claims(), kid="no-such-key"), "unknown_kid")
    add("kid-of-skipped-weak-rsa-key", encode("RS256", claims(), kid="rsa-weak", key=WEAK_RSA), "unknown_kid")
    add("kid-path-traversal", encode("ES256", claims(), kid="../../../../dev/null"), "unknown_kid")
    add("signed-by-other-key-same-kid", encode("ES256", claims(), key=ATTACKER_EC), "bad_signature")
    add("embedded-jwk-header-ignored",
        jwt.encode({"alg": "ES256", "jwk": ATTACKER_EC.as_dict(private=False)}, claims(), ATTACKER_EC,
                   algorithms=["ES256"]), "bad_signature")
    add("expired", encode("ES256", claims(exp=NOW - LEEWAY - 1)), "expired")
    add("expired-at-leeway-boundary", encode("ES256", claims(exp=NOW - LEEWAY)), "expired")
    add("exp-missing", encode("ES256", claims(exp=None)), "exp_missing")
    add("exp-as-string", encode("ES256", claims(exp=str(EXP))), "malformed")
    add("not-yet-valid", encode("ES256", claims(nbf=NOW + LEEWAY + 1)), "not_yet_valid")
    add("issued-in-future", encode("ES256", claims(iat=NOW + LEEWAY + 1)), "issued_in_future")
    add("wrong-issuer", encode("ES256", claims(iss="https://evil.example")), "issuer_mismatch")
    add("issuer-missing", encode("ES256", claims(iss=None)), "issuer_mismatch")
    add("wrong-audience", encode("ES256", claims(aud="someone-else")), "audience_mismatch")
    add("audience-array-without-ours", encode("ES256", claims(aud=["a", "b"])), "audience_mismatch")
    add("unknown-crit", manual({"alg": "ES256", "kid": "ec-256", "crit": ["exp"], "exp": EXP},
                               compact_json(claims()), lambda d: ecdsa_raw_sign(KEYS["ec-256"], d)),
        "unknown_critical")
    add("stripped-signature", h + "." + p + ".", "bad_signature")
    add("two-parts", h + "." + p, "malformed")
    add("four-parts", good + ".x", "malformed")
    add("empty-header", "." + p + "." + s, "malformed")
    add("padded-signature", good + "=", "bad_base64")
    add("padded-payload", h + "." + b64(compact_json(claims())) + "==." + s, "bad_base64")
    std = s.replace("-", "+").replace("_", "/")
    if std == s:
        std = "+" + s[1:]
    add("standard-alphabet-signature", h + "." + p + "." + std, "bad_base64")
    add("whitespace-in-token", h + "." + p[:10] + " " + p[10:] + "." + s, "bad_base64")
    add("der-ecdsa-signature",
        manual({"alg": "ES256", "kid": "ec-256"}, compact_json(claims()),
               lambda d: ecdsa_der_sign(KEYS["ec-256"], d)), "bad_signature")
    tampered = b64(compact_json(claims(sub="admin")))
    add("tampered-payload", h + "." + tampered + "." + s, "bad_signature")
    add("tampered-header-kid", b64(compact_json({"alg": "ES256", "kid": "ec-256", "x": 1})) + "." + p + "." + s,
        "bad_signature")
    add("header-not-json", b64(b"{alg:ES256}") + "." + p + "." + s, "bad_json")
    add("header-is-array", b64(b'["ES256"]') + "." + p + "." + s, "malformed")
    add("header-alg-not-string", b64(b'{"alg":256}') + "." + p + "." + s, "malformed")
    add("payload-not-json", manual({"alg": "ES256", "kid": "ec-256"}, b"not json",
                                   lambda d: ecdsa_raw_sign(KEYS["ec-256"], d)), "bad_json")
    add("payload-is-array", manual({"alg": "ES256", "kid": "ec-256"}, b"[1,2]",
                                   lambda d: ecdsa_raw_sign(KEYS["ec-256"], d)), "malformed")
    nested = b"{\"a\":" + b"[" * 200 + b"]" * 200 + b"}"
    add("deeply-nested-payload", manual({"alg": "ES256", "kid": "ec-256"}, nested,
                                        lambda d: ecdsa_raw_sign(KEYS["ec-256"], d)), "bad_json")
    return cases


def decoded(segment):
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return raw.decode("utf-8")
    except Exception:
        return None


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = build_cases()
    for case in cases:
        segments = case["token"].split(".")
        case["header"] = decoded(segments[0]) if segments else None
        case["payload"] = decoded(segments[1]) if len(segments) > 1 else None
    document = {
        "description": "Generated by scripts/gen-jwt-fixtures.py (joserfc). Verify each token with jwks.json "
                       "(source: file) and the policy at 'now'; 'expect' is 'accept' or a JWTError label.",
        "now": NOW,
        "policy": {"issuer": ISSUER, "audiences": [AUDIENCE], "algorithms": ALL_ALGS, "leeway_s": LEEWAY,
                   "max_token_bytes": 8192},
        "jwks_usable_keys": 6,
        "jwks_skipped_keys": 2,
        "cases": cases,
    }
    with open(os.path.join(OUT, "jwks.json"), "w") as f:
        json.dump(jwks_document(), f, indent=1)
        f.write("\n")
    with open(os.path.join(OUT, "tokens.json"), "w") as f:
        json.dump(document, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
