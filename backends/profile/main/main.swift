import Glibc
import ProfileService

// profile-service [--listen ADDR] [--data-dir DIR]                                    (SPEC §8)
exit(ProfileServiceCommand.main(Array(CommandLine.arguments.dropFirst())))
