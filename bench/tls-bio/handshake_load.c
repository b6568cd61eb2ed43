/* Full TLS handshakes per second: CONNS connections in flight, each connects, does a full handshake (the client
 * never offers a session: no ticket, no session cache), sends one `Connection: close` GET, reads the response to
 * the end and starts again. wrk cannot measure this: it keeps the last connection's session (SSL_clear) and
 * resumes whenever the server renewed its ticket, so its "new connection per request" is mostly resumptions.
 * The certificate is not verified (wrk does not either): the client's cost is not what is measured.
 *
 *   cc -O2 -o /tmp/handshake_load bench/tls-bio/handshake_load.c -lssl -lcrypto
 *   /tmp/handshake_load 127.0.0.1 8443 /hello 50 10      # prints "<completed> <failed> <seconds>"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum phase { CONNECTING, HANDSHAKE, WRITING, READING };

struct slot {
    int fd;
    SSL *ssl;
    enum phase phase;
    int status_ok;
    size_t sent;
};

static SSL_CTX *ctx;
static struct sockaddr_in target;
static char request[512];
static size_t request_length;
static long completed, failed;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void start(int epoll, struct slot *s) {
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    s->ssl = SSL_new(ctx);
    SSL_set_fd(s->ssl, s->fd);
    SSL_set_connect_state(s->ssl);
    s->phase = CONNECTING;
    s->status_ok = 0;
    s->sent = 0;
    if (connect(s->fd, (struct sockaddr *)&target, sizeof target) != 0 && errno != EINPROGRESS) {
        perror("connect");
        exit(1);
    }
    struct epoll_event event = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = s};
    epoll_ctl(epoll, EPOLL_CTL_ADD, s->fd, &event);
}

static void finish(int epoll, struct slot *s, int ok) {
    if (ok) completed++;
    else failed++;
    SSL_free(s->ssl);
    close(s->fd);
    start(epoll, s);
}

/* Drives one connection as far as it goes; returns when it must wait for the socket. */
static void drive(int epoll, struct slot *s) {
    for (;;) {
        int r, error;
        switch (s->phase) {
        case CONNECTING:
            s->phase = HANDSHAKE;
            break;
        case HANDSHAKE:
            r = SSL_do_handshake(s->ssl);
            if (r == 1) { s->phase = WRITING; break; }
            error = SSL_get_error(s->ssl, r);
            if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
            finish(epoll, s, 0);
            return;
        case WRITING:
            r = SSL_write(s->ssl, request + s->sent, (int)(request_length - s->sent));
            if (r > 0) {
                s->sent += (size_t)r;
                if (s->sent == request_length) s->phase = READING;
                break;
            }
            error = SSL_get_error(s->ssl, r);
            if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
            finish(epoll, s, 0);
            return;
        case READING: {
            char buffer[16384];
            r = SSL_read(s->ssl, buffer, sizeof buffer);
            if (r > 0) {
                if (r >= 12 && memcmp(buffer, "HTTP/1.1 200", 12) == 0) s->status_ok = 1;
                break;
            }
            error = SSL_get_error(s->ssl, r);
            if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
            /* close_notify or EOF after the response: the exchange is over. */
            finish(epoll, s, s->status_ok);
            return;
        }
        }
    }
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s HOST PORT PATH CONNS SECONDS\n", argv[0]);
        return 2;
    }
    int conns = atoi(argv[4]);
    double seconds = atof(argv[5]);
    target.sin_family = AF_INET;
    target.sin_port = htons((uint16_t)atoi(argv[2]));
    inet_pton(AF_INET, argv[1], &target.sin_addr);
    request_length = (size_t)snprintf(
        request, sizeof request, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", argv[3]);

    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);

    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct slot *slots = calloc((size_t)conns, sizeof *slots);
    for (int i = 0; i < conns; i++) start(epoll, &slots[i]);
    struct epoll_event events[256];
    double began = now_seconds(), end = began + seconds;
    for (;;) {
        double left = end - now_seconds();
        if (left <= 0) break;
        int n = epoll_wait(epoll, events, 256, (int)(left * 1000) + 1);
        for (int i = 0; i < n; i++) drive(epoll, events[i].data.ptr);
    }
    printf("%ld %ld %.3f\n", completed, failed, now_seconds() - began);
    return 0;
}
