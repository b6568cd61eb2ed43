// What `import Glibc` does not export: epoll, eventfd, timerfd, inotify,
// signalfd, accept4 and a few socket constants, as plain C for Swift.
#ifndef MESHGATE_CLINUX_H
#define MESHGATE_CLINUX_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <time.h>
#include <stdint.h>
#include <sys/prctl.h>

/// accept4(2) with the flags Glibc's Swift overlay hides behind _GNU_SOURCE.
int clinux_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);

/// pipe2(2), also behind _GNU_SOURCE: a pipe that is close-on-exec from its first instant.
int clinux_pipe2(int fds[2], int flags);

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+, behind _GNU_SOURCE): the child closes every
/// descriptor >= from before exec.
int clinux_spawn_closefrom(posix_spawn_file_actions_t *actions, int from);

/// Epoll event bits as plain integers (the C enum imports awkwardly).
static const uint32_t CLINUX_EPOLLIN = EPOLLIN;
static const uint32_t CLINUX_EPOLLOUT = EPOLLOUT;
static const uint32_t CLINUX_EPOLLERR = EPOLLERR;
static const uint32_t CLINUX_EPOLLHUP = EPOLLHUP;
static const uint32_t CLINUX_EPOLLRDHUP = EPOLLRDHUP;
static const uint32_t CLINUX_EPOLLET = EPOLLET;

/// The packed `epoll_event` accessors: Swift cannot always take the address
/// of a packed field, so these read and write through C.
static inline uint64_t clinux_epoll_event_data(const struct epoll_event *ev) { return ev->data.u64; }
static inline uint32_t clinux_epoll_event_events(const struct epoll_event *ev) { return ev->events; }
static inline void clinux_epoll_event_set(struct epoll_event *ev, uint32_t events, uint64_t data) {
    ev->events = events;
    ev->data.u64 = data;
}

/// CLOCK_MONOTONIC_COARSE in milliseconds: a vDSO read, no syscall.
static inline int64_t clinux_monotonic_coarse_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/// CLOCK_MONOTONIC in nanoseconds, for durations that need precision.
static inline int64_t clinux_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/// Wall clock in milliseconds since the epoch (logs, JWT exp/nbf).
static inline int64_t clinux_realtime_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/// The commit this binary was built from (Package.swift defines it when compiling shim.c).
const char *clinux_build_commit(void);

/// Names the calling thread (shown by top -H and in /proc), at most 15 bytes.
static inline void clinux_set_thread_name(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

/// The signal this process gets when the thread that spawned it ends (PR_SET_PDEATHSIG); 0 on success.
static inline int clinux_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0);
}

#endif
