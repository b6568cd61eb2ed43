import AuthService
import Glibc

// auth-service [--listen ADDR] [--data-dir DIR] [--issuer ISS] [--audience AUD] [--token-ttl-s N]
// auth-service rotate-key [--data-dir DIR] [--token-ttl-s N]                         (SPEC §8)
exit(AuthServiceCommand.main(Array(CommandLine.arguments.dropFirst())))
