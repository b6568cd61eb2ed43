/* Memory BIOs vs SSL on the fd: syscalls and copies per request on the server side of a keep-alive TLS
 * connection, as an edge-triggered event loop would drive it (non-blocking fd, poll() standing in for
 * epoll_wait). Not a test; run by hand:
 *
 *   cc -O2 -o /tmp/bio_syscalls bench/tls-bio/bio_syscalls.c -lssl -lcrypto
 *   /tmp/bio_syscalls server fd|mem CERT KEY RESPONSE_BYTES & ; /tmp/bio_syscalls client RESPONSE_BYTES
 *   (or: strace -c -f /tmp/bio_syscalls server mem ... to count the server's syscalls)
 *
 * Measured 2026-12 (OpenSSL 3.0.19, TLS 1.3, Unix socket, 2000 keep-alive requests; server syscalls, EAGAIN
 * reads excluded; they depend on the race with the client, not on the mode):
 *
 *   response   mode             reads/req  writes/req  extra memcpy/req
 *   1 KiB      fd               2.0        1.0         0
 *   1 KiB      fd + read_ahead  1.0        1.0         0
 *   1 KiB      mem              1.0        1.0         1.1 KB
 *   64 KiB     fd               2.0        4.0         0       (one write per 16 KiB record)
 *   64 KiB     fd + read_ahead  1.0        4.0         0
 *   64 KiB     mem              1.0        1.0         66 KB
 *
 * Memory BIOs cost one memcpy of the ciphertext each way and save a write per extra record (and, against
 * libssl's default, a read per record header); STYLE's measurements say syscalls dominate CPU per request.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <fcntl.h>
#include <unistd.h>

#define PATH "/tmp/bio_syscalls.sock"
#define REQUESTS 2000
static const char request[] = "GET /hello HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n";
static unsigned char io[256 * 1024];
static unsigned long copied;

static void wait_fd(int fd, short events) { struct pollfd p = {fd, events, 0}; poll(&p, 1, -1); }

/* Mode "mem": the event loop reads the socket itself (one read per readiness, large buffer) and writes the
 * queued ciphertext in one write. */
static void mem_flush(BIO *wbio, int fd);
static int mem_read(SSL *ssl, BIO *rbio, BIO *wbio, int fd, unsigned char *out, int cap) {
    for (;;) {
        int n = SSL_read(ssl, out, cap);
        if (n > 0) return n;
        if (SSL_get_error(ssl, n) != SSL_ERROR_WANT_READ) return -1;
        mem_flush(wbio, fd); /* handshake messages before waiting for the peer's answer */
        ssize_t got = read(fd, io, sizeof io);
        if (got == 0) return 0;
        if (got < 0) { if (errno == EAGAIN) { wait_fd(fd, POLLIN); continue; } return -1; }
        BIO_write(rbio, io, (int)got);
        copied += (unsigned long)got;
    }
}
static void mem_flush(BIO *wbio, int fd) {
    int pending;
    while ((pending = (int)BIO_ctrl_pending(wbio)) > 0) {
        int n = BIO_read(wbio, io, pending < (int)sizeof io ? pending : (int)sizeof io);
        copied += (unsigned long)n;
        for (int off = 0; off < n;) {
            ssize_t w = write(fd, io + off, (size_t)(n - off));
            if (w < 0 && errno == EAGAIN) { wait_fd(fd, POLLOUT); continue; }
            if (w < 0) return;
            off += (int)w;
        }
    }
}

/* Mode "fd": libssl reads and writes the socket (SSL_set_fd), read_ahead off as by default. */
static int fd_read(SSL *ssl, int fd, unsigned char *out, int cap) {
    for (;;) {
        int n = SSL_read(ssl, out, cap);
        if (n > 0) return n;
        int e = SSL_get_error(ssl, n);
        if (e == SSL_ERROR_WANT_READ) { wait_fd(fd, POLLIN); continue; }
        return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
    }
}
static void fd_write(SSL *ssl, int fd, const unsigned char *data, int len) {
    for (int off = 0; off < len;) {
        int n = SSL_write(ssl, data + off, len - off);
        if (n > 0) { off += n; continue; }
        if (SSL_get_error(ssl, n) == SSL_ERROR_WANT_WRITE) { wait_fd(fd, POLLOUT); continue; }
        return;
    }
}

static int server(const char *mode, const char *cert, const char *key, int response_bytes, int read_ahead) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_chain_file(ctx, cert);
    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE);
    if (read_ahead) SSL_CTX_set_read_ahead(ctx, 1);
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, PATH);
    unlink(PATH);
    bind(ls, (struct sockaddr *)&a, sizeof a);
    listen(ls, 1);
    int fd = accept(ls, NULL, NULL);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    SSL *ssl = SSL_new(ctx);
    BIO *rbio = NULL, *wbio = NULL;
    int mem = strcmp(mode, "mem") == 0;
    if (mem) {
        rbio = BIO_new(BIO_s_mem());
        wbio = BIO_new(BIO_s_mem());
        SSL_set_bio(ssl, rbio, wbio);
    } else {
        SSL_set_fd(ssl, fd);
    }
    SSL_set_accept_state(ssl);
    unsigned char *response = malloc((size_t)response_bytes);
    memset(response, 'x', (size_t)response_bytes);
    unsigned char in[16384];
    int served = 0;
    for (;;) {
        int n = mem ? mem_read(ssl, rbio, wbio, fd, in, sizeof in) : fd_read(ssl, fd, in, sizeof in);
        if (n <= 0) break;
        if (mem) {
            /* A memory BIO never refuses a write: all records are queued, then sent in as few writes as the
             * socket buffer allows. */
            for (int off = 0; off < response_bytes;) off += SSL_write(ssl, response + off, response_bytes - off);
            mem_flush(wbio, fd);
        }
        else fd_write(ssl, fd, response, response_bytes);
        served++;
    }
    fprintf(stderr, "server %s%s: %d requests, %.1f extra bytes copied per request\n", mode,
            read_ahead ? "+read_ahead" : "", served, served ? (double)copied / served : 0.0);
    return 0;
}

static int client(int response_bytes) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, PATH);
    for (int i = 0; i < 100 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0; i++) usleep(10000);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) { ERR_print_errors_fp(stderr); return 1; }
    unsigned char buf[65536];
    for (int i = 0; i < REQUESTS; i++) {
        SSL_write(ssl, request, sizeof request - 1);
        for (int got = 0; got < response_bytes;) {
            int n = SSL_read(ssl, buf, sizeof buf);
            if (n <= 0) return 1;
            got += n;
        }
    }
    SSL_shutdown(ssl);
    close(fd);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 6 && strcmp(argv[1], "server") == 0)
        return server(argv[2], argv[3], argv[4], atoi(argv[5]), argc > 6 && strcmp(argv[6], "read_ahead") == 0);
    if (argc >= 3 && strcmp(argv[1], "client") == 0) return client(atoi(argv[2]));
    fprintf(stderr, "usage: server fd|mem CERT KEY RESPONSE_BYTES [read_ahead] | client RESPONSE_BYTES\n");
    return 2;
}
