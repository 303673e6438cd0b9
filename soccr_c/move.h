/*
 * soccr/move.h: moving live TCP connections, for C callers, in the style
 * of libcriu: check, dump to a descriptor, restore from one, lock and
 * unlock, send and receive.
 *
 *   #include <soccr/move.h>
 *
 *   if (soccr_move_check() < 0) ...;                // repair mode works here?
 *   int r = soccr_move_dump_fd(sk, pipe_w, SOCCR_MOVE_DUMP_CLOSE);
 *   int live = soccr_move_restore_fd(pipe_r);       // >= 0: the new socket
 *
 *   struct soccr_move_send_opts o = {sizeof(o)};
 *   o.pid = 1234; o.all = 1; o.to = "192.0.2.2:7000";
 *   r = soccr_move_send(&o);
 *
 * Every call returns 0 (or a count or descriptor, where said) on success
 * and a negative errno on failure, as libcriu's table does:
 *
 *   -EINVAL        bad arguments (NULL, a `size` smaller than this
 *                  version's struct, unknown flags, a malformed address)
 *   -ECONNREFUSED  the other side (soccr receive) is not listening
 *   -ECOMM         the other side went away, or sending or receiving failed
 *   -EBADMSG       the other side sent something unexpected or malformed,
 *                  or an image stream is corrupt or truncated
 *   -EBADE         the operation was refused (by the kernel or the other
 *                  side): a restore error, a failed checkpoint, ...
 *   -ETIMEDOUT     a wait for the other side timed out
 *   -EPERM         missing privileges (CAP_NET_ADMIN, ptrace access, a
 *                  sender of another user)
 *   -ENOENT        no such lock, process or descriptor
 *   -EEXIST        the address or lock exists already
 *   -EOPNOTSUPP    the kernel lacks what the operation needs
 *
 * The reason, in full (step, kernel call, errno, connection), goes to the
 * function given to libsoccr_set_log() (<soccr/soccr.h>).
 *
 * Ownership: no call keeps or frees a caller's pointer or descriptor
 * (except where said: soccr_move_dump_fd with SOCCR_MOVE_DUMP_CLOSE
 * disconnects the socket, which the caller still closes). Descriptors a
 * call returns are the caller's to close.
 *
 * Options structs start with `size`, set to sizeof the struct the caller
 * was compiled with: later versions add fields at the end only, and a
 * caller built against this version keeps working.
 *
 * Thread safety: every call may run on several threads at once (each uses
 * its own sockets and nothing global but the log function); a descriptor
 * must not be used by two calls at once.
 *
 * Pure C: compiles as C99, C11 and C++.
 */

#ifndef SOCCR_C_MOVE_H_
#define SOCCR_C_MOVE_H_

#include <soccr/soccr.h> /* union libsoccr_addr, the log */
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * soccr_move_check probes, in the current network namespace, that TCP
 * repair mode can be entered and left (on a socket of its own). 0, or
 * -EPERM without CAP_NET_ADMIN over the namespace.
 */
int soccr_move_check(void);

/* soccr_move_dump_fd flags. */
#define SOCCR_MOVE_DUMP_CLOSE 1u        /* disconnect silently afterwards */
#define SOCCR_MOVE_DUMP_LEAVE_PAUSED 2u /* leave it in repair mode */

/*
 * soccr_move_dump_fd checkpoints TCP socket `sk` (of this process) and
 * writes its image to `out_fd` (a file, pipe or socket; image-format.md).
 * Without flags the connection then resumes. The caller should hold the
 * peer's packets back (soccr_move_lock) while it runs.
 */
int soccr_move_dump_fd(int sk, int out_fd, unsigned flags);

/*
 * soccr_move_restore_fd reads one image from `in_fd` (exactly its bytes),
 * restores its first connection and resumes it. Returns the new socket's
 * descriptor (>= 0, close-on-exec), or a negative errno.
 */
int soccr_move_restore_fd(int in_fd);

/* A connection as seen from this host (both addresses of one family). */
struct soccr_move_conn {
  union libsoccr_addr local;
  union libsoccr_addr peer;
};

#define SOCCR_MOVE_LOCK_ID_SIZE 17 /* 16 hex digits and a NUL */

/*
 * soccr_move_lock locks `n` connections (n > 0) in the current network
 * namespace in one transaction (the network lock: their packets are
 * dropped both ways, but those marked SOCCR_MARK), or with conns == NULL
 * and n == 0 every TCP packet of the namespace. Writes the lock's id to
 * `id` (SOCCR_MOVE_LOCK_ID_SIZE bytes). The lock outlives the process
 * until soccr_move_unlock(id).
 */
int soccr_move_lock(const struct soccr_move_conn *conns, unsigned n, char *id);
int soccr_move_unlock(const char *id);

/* soccr_move_send_opts.lock */
#define SOCCR_MOVE_LOCK_CONNECTIONS 0u
#define SOCCR_MOVE_LOCK_NAMESPACE 1u
#define SOCCR_MOVE_LOCK_NONE 2u

struct soccr_move_send_opts {
  uint32_t size;       /* sizeof(struct soccr_move_send_opts) */
  int32_t pid;         /* the process that owns the connections */
  const int *fds;      /* its descriptors to move ... */
  uint32_t nfds;       /* ... how many (0 with all) */
  uint32_t all;        /* 1: every connected TCP socket of the process */
  uint32_t lock;       /* SOCCR_MOVE_LOCK_* */
  uint32_t timeout_ms; /* each wait for the other side; 0: 30 s */
  const char *to;      /* "unix:PATH" or "HOST:PORT" */
  const char *release_address; /* "ADDR/PREFIX" or NULL */
  const char *dev;             /* with release_address */
  const char *journal;         /* for soccr recover, or NULL */
};

/*
 * soccr_move_send: `soccr send` (docs/migration.md). 0 once the
 * destination has the connections; before the commit every failure rolls
 * back (the connections stay here, resumed).
 */
int soccr_move_send(const struct soccr_move_send_opts *opts);

struct soccr_move_receive_opts {
  uint32_t size;            /* sizeof(struct soccr_move_receive_opts) */
  uint32_t timeout_ms;      /* each wait once a sender is connected */
  const char *listen;       /* "unix:PATH" or "HOST:PORT" */
  const char *take_address; /* "ADDR/PREFIX" or NULL */
  const char *dev;          /* with take_address */
};

/*
 * soccr_move_receive: `soccr receive` without the exec. Waits for one
 * sender and writes the live sockets to fds[0..] (at most max_fds: a
 * sender with more is refused before anything moves). Returns how many.
 */
int soccr_move_receive(const struct soccr_move_receive_opts *opts, int *fds,
                       unsigned max_fds);

/*
 * soccr_version: the version of the library actually loaded, as
 * "MAJOR.MINOR.PATCH" (the same as `soccr --version` and libsoccr.pc's
 * Version). A static string: never NULL, never freed. It is not the
 * soname's number (libsoccr.so.1), which changes only if the ABI breaks.
 */
const char *soccr_version(void);

/*
 * soccr_sock_diag_keep: whether the calling thread's checkpoints
 * (libsoccr_save, soccr_move_dump_fd) keep one netlink socket open between
 * them. Each checkpoint asks sock_diag (NETLINK_SOCK_DIAG) about its
 * connection, since TCP-MD5 keys show nowhere else; by default it opens a
 * netlink socket for that one question and closes it again, which costs
 * more than the question (about half of an idle checkpoint's time). A
 * thread that checkpoints many connections may keep one instead:
 *
 *   soccr_sock_diag_keep(1);   // opened by the next checkpoint, kept
 *   ... libsoccr_pause / libsoccr_save / ... for every connection ...
 *   soccr_sock_diag_keep(0);   // closed
 *
 * keep != 0 keeps one from the thread's next checkpoint on (made then, in
 * the thread's network namespace, close-on-exec); 0 closes it. The
 * descriptor is the library's: the caller must not close it (a program
 * that closes descriptors it did not open, or counts them, should not ask
 * for this). It is closed when the thread exits, and a child made by
 * fork() opens its own instead of using its parent's. Checkpoints on other
 * threads are unaffected. Returns 1 if the thread kept one before the
 * call, 0 if not. Not in libsoccr.
 */
int soccr_sock_diag_keep(int keep);

#ifdef __cplusplus
}
#endif

#endif /* SOCCR_C_MOVE_H_ */
