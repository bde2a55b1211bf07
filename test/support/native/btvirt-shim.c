/*
 * LD_PRELOAD shim for BlueZ's btvirt (Debian 12, bluez-test-tools 5.66) serving emulated controllers
 * on unix sockets (`btvirt -s`). Four things, each measured on a machine with no Bluetooth:
 *
 * 1. AF_ALG: every emulated LE controller opens kernel crypto sockets (AES, CMAC) when it is created;
 *    on kernels without AF_ALG that fails and btvirt drops the client (ECONNRESET). We hand out a
 *    dummy socket and accept its bind(); only LE pairing/encryption then fails, which we do not use.
 * 2. Flow control: btvirt writes to clients with MSG_DONTWAIT and silently discards what does not fit
 *    in the socket buffer, while the sending controller has already been acknowledged. A slow reader
 *    loses ACL data. Writes to clients are made blocking (and their SO_SNDBUF raised), and never
 *    raise SIGPIPE: a client that went away must not take the emulator down with it.
 * 3. Framing: btvirt's reader mishandles an H4 header split across two reads. recv() on a client
 *    returns exactly one whole H4 packet.
 * 4. The socket folder is hard-coded (/tmp/bt-server-*); CARRIER_BTVIRT_DIR moves it, so parallel
 *    runs do not collide.
 *
 * Build: cc -shared -fPIC -O2 -o btvirt-shim.so btvirt-shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef AF_ALG
#define AF_ALG 38
#endif

#define MAX_FD 4096
static unsigned char alg_fd[MAX_FD];    /* dummy crypto sockets */
static unsigned char client_fd[MAX_FD]; /* accepted controller clients */

/* the next definition of `name` (libc's), looked up once */
#define REAL(name) \
  static __typeof__(&name) real_##name; \
  if (!real_##name) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

static const char *moved(const char *path, char *out, size_t size) {
  const char *dir = getenv("CARRIER_BTVIRT_DIR");
  const char *prefix = "/tmp/bt-server-";
  if (!dir || strncmp(path, prefix, strlen(prefix)) != 0) return path;
  snprintf(out, size, "%s/%s", dir, path + strlen("/tmp/"));
  return out;
}

int socket(int domain, int type, int protocol) {
  REAL(socket);
  int fd = real_socket(domain, type, protocol);
  if (fd < 0 && domain == AF_ALG) {
    fd = real_socket(AF_UNIX, SOCK_SEQPACKET | (type & SOCK_CLOEXEC), 0);
    if (fd >= 0 && fd < MAX_FD) alg_fd[fd] = 1;
  }
  return fd;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
  REAL(bind);
  if (fd >= 0 && fd < MAX_FD && alg_fd[fd]) return 0;
  if (addr && addr->sa_family == AF_UNIX) {
    struct sockaddr_un un;
    char path[sizeof un.sun_path];
    memcpy(&un, addr, len < sizeof un ? len : sizeof un);
    const char *p = moved(((const struct sockaddr_un *)addr)->sun_path, path, sizeof path);
    if (p == path) {
      memset(un.sun_path, 0, sizeof un.sun_path);
      strncpy(un.sun_path, p, sizeof un.sun_path - 1);
      return real_bind(fd, (struct sockaddr *)&un, sizeof un);
    }
  }
  return real_bind(fd, addr, len);
}

int unlink(const char *path) {
  REAL(unlink);
  char buf[108];
  return real_unlink(moved(path, buf, sizeof buf));
}

int close(int fd) {
  REAL(close);
  if (fd >= 0 && fd < MAX_FD) alg_fd[fd] = client_fd[fd] = 0;
  return real_close(fd);
}

static int track_client(int fd) {
  if (fd >= 0 && fd < MAX_FD) {
    client_fd[fd] = 1;
    int size = 4 * 1024 * 1024;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  }
  return fd;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len) {
  REAL(accept);
  return track_client(real_accept(fd, addr, len));
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
  REAL(accept4);
  return track_client(real_accept4(fd, addr, len, flags));
}

static int is_client(int fd) { return fd >= 0 && fd < MAX_FD && client_fd[fd]; }

ssize_t send(int fd, const void *buf, size_t n, int flags) {
  REAL(send);
  if (is_client(fd)) flags = (flags & ~MSG_DONTWAIT) | MSG_NOSIGNAL;
  return real_send(fd, buf, n, flags);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
  REAL(sendmsg);
  if (is_client(fd)) flags = (flags & ~MSG_DONTWAIT) | MSG_NOSIGNAL;
  return real_sendmsg(fd, msg, flags);
}

/* Reads exactly n bytes (blocking); returns n, 0 on EOF, -1 on error. */
static ssize_t read_exact(int fd, unsigned char *p, size_t n) {
  REAL(recv);
  size_t got = 0;
  while (got < n) {
    ssize_t r = real_recv(fd, p + got, n - got, MSG_WAITALL);
    if (r == 0) return 0;
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    got += (size_t)r;
  }
  return (ssize_t)n;
}

ssize_t recv(int fd, void *buf, size_t n, int flags) {
  REAL(recv);
  if (!is_client(fd)) return real_recv(fd, buf, n, flags);
  unsigned char *p = buf;
  /* H4 from a host: 0x01 command (3-byte header, length at [2]), 0x02 ACL (4-byte, LE length at [2..3]) */
  ssize_t r = read_exact(fd, p, 1);
  if (r <= 0) return r;
  size_t header = p[0] == 0x01 ? 3 : p[0] == 0x02 ? 4 : 0;
  if (header == 0 || n < 1 + header) return 1; /* let btvirt report the packet error */
  r = read_exact(fd, p + 1, header);
  if (r <= 0) return r;
  size_t body = p[0] == 0x01 ? p[3] : (size_t)(p[3] | (p[4] << 8));
  if (n < 1 + header + body) {
    errno = EMSGSIZE;
    return -1;
  }
  if (body) {
    r = read_exact(fd, p + 1 + header, body);
    if (r <= 0) return r;
  }
  return (ssize_t)(1 + header + body);
}
