#include "CLinux.h"

int clinux_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    return accept4(fd, addr, len, flags);
}

int clinux_pipe2(int fds[2], int flags) {
    return pipe2(fds, flags);
}

int clinux_spawn_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

#ifndef MESHGATE_COMMIT
#define MESHGATE_COMMIT "unknown"
#endif

const char *clinux_build_commit(void) {
    return MESHGATE_COMMIT;
}
