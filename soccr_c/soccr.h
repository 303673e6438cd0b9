/*
 * soccr/soccr.h: the libsoccr C API, on soccr's C++ core.
 *
 * A drop-in replacement for CRIU's libsoccr: the same names, types, values
 * and return conventions, so that a program written against libsoccr builds
 * against soccr unchanged (see docs/migrating-from-libsoccr.md).
 *
 *   #include <soccr/soccr.h>
 *
 *   // Checkpoint (the peer's packets blocked):
 *   struct libsoccr_sk *h = libsoccr_pause(fd);
 *   struct libsoccr_sk_data data;
 *   int n = libsoccr_save(h, &data, sizeof(data));       // 68, or < 0
 *   char *inq = libsoccr_get_queue_bytes(h, TCP_RECV_QUEUE, SOCCR_MEM_EXCL);
 *   char *outq = libsoccr_get_queue_bytes(h, TCP_SEND_QUEUE, SOCCR_MEM_EXCL);
 *   union libsoccr_addr *self = libsoccr_get_addr(h, 1, SOCCR_MEM_EXCL);
 *   union libsoccr_addr *peer = libsoccr_get_addr(h, 0, SOCCR_MEM_EXCL);
 *   libsoccr_release(h);  // leaves repair mode on: close(fd) sends nothing
 *
 *   // Restore, onto a plain new socket (no buffer sizing, no O_NONBLOCK):
 *   int sk = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
 *   h = libsoccr_pause(sk);
 *   libsoccr_set_queue_bytes(h, TCP_RECV_QUEUE, inq, SOCCR_MEM_EXCL);
 *   libsoccr_set_queue_bytes(h, TCP_SEND_QUEUE, outq, SOCCR_MEM_EXCL);
 *   libsoccr_set_addr(h, 1, self, SOCCR_MEM_EXCL);  // the library's now
 *   libsoccr_set_addr(h, 0, peer, SOCCR_MEM_EXCL);
 *   if (libsoccr_restore(h, &data, sizeof(data)) < 0) return -1;  // logged
 *   libsoccr_resume(h);  // queues the unsent data, frees what it was given
 *
 * The same as a whole program, built and run by the tests and against the
 * installed library: soccr_c/examples/migrate.c.
 *
 * Errors: calls that return a pointer return NULL, calls that return int
 * return -1, and the reason (the step, the kernel call, errno and the
 * connection) goes to the function given to libsoccr_set_log(). Bad
 * arguments are errors too, never crashes.
 *
 * Ownership (SOCCR_MEM_EXCL): the memory a get or set call passes belongs
 * to the receiving side when the flag is set. A get call's buffer is then
 * the caller's to free(); without the flag it stays the library's, valid
 * until libsoccr_resume() or libsoccr_release() of that handle frees it. A
 * set call's buffer (which must come from malloc()) is then the library's
 * to free() (by libsoccr_resume() or libsoccr_release() at the latest);
 * without the flag the caller keeps it and must keep it valid and unchanged
 * until libsoccr_restore() returns. A set call that fails takes nothing:
 * the caller still owns its buffer. Memory once given with the flag stays
 * the library's (given again, for either queue, it is freed once).
 *
 * Thread safety: a handle is for one thread at a time; different handles
 * may be used on different threads at once. libsoccr_set_log() may be
 * called at any time from any thread; the log function may then be called
 * from several threads at once.
 *
 * Pure C: compiles as C99, C11 and C++.
 */

#ifndef SOCCR_C_SOCCR_H_
#define SOCCR_C_SOCCR_H_

#include <netinet/in.h>  /* sockaddr_in, sockaddr_in6 */
#include <netinet/tcp.h> /* TCP_RECV_QUEUE, TCP_SEND_QUEUE */
#include <stddef.h>      /* offsetof */
#include <stdint.h>      /* uint32_t */
#include <sys/socket.h>  /* sockaddr */

#ifdef __cplusplus
extern "C" {
#endif

/* Packets with this mark are not to be blocked (libsoccr's value). */
#define SOCCR_MARK 0xC114

/*
 * glibc declares the repair queue ids only with _DEFAULT_SOURCE or
 * _GNU_SOURCE (its default, unless a strict ISO mode such as -std=c11 is
 * asked for); in a strict mode, declare them with glibc's values.
 */
#if defined(__GLIBC__) && !defined(__USE_MISC)
enum { TCP_NO_QUEUE, TCP_RECV_QUEUE, TCP_SEND_QUEUE, TCP_QUEUES_NR };
#endif

#ifndef TCP_TIMESTAMP
#define TCP_TIMESTAMP 24
#endif
#ifndef TCP_REPAIR_WINDOW
#define TCP_REPAIR_WINDOW 29
#endif

/* Log levels for libsoccr_set_log(). */
#define SOCCR_LOG_ERR 1
#define SOCCR_LOG_DBG 2

/*
 * libsoccr_set_log makes the library report messages of `level` and below
 * (SOCCR_LOG_ERR: errors; SOCCR_LOG_DBG: errors and each step) by calling
 * `fn(level, fmt, ...)`, printf-style; every message ends with a newline.
 * NULL (the initial setting) reports nothing.
 */
void libsoccr_set_log(unsigned int level,
                      void (*fn)(unsigned int level, const char *fmt, ...));

/* An opaque handle on one paused socket. */
struct libsoccr_sk;

/* A socket address; sa.sa_family says which member is valid. */
union libsoccr_addr {
  struct sockaddr sa;
  struct sockaddr_in v4;
  struct sockaddr_in6 v6;
};

/*
 * The state of a connection: libsoccr_save() fills it, libsoccr_restore()
 * takes it back. Sequence numbers follow the kernel: inq_seq is the
 * sequence number just past the last byte received (rcv_nxt), outq_seq
 * just past the last byte written (write_seq); unsq_len counts the bytes at
 * the end of the send queue that were never sent. `state` is the kernel's
 * TCP state number (TCP_ESTABLISHED is 1); `opt_mask` holds tcp_info's
 * TCPI_OPT_* bits. The layout is frozen (68 bytes; asserted below).
 */
struct libsoccr_sk_data {
  uint32_t state;
  uint32_t inq_len;
  uint32_t inq_seq;
  uint32_t outq_len;
  uint32_t outq_seq;
  uint32_t unsq_len;
  uint32_t opt_mask;
  uint32_t mss_clamp;
  uint32_t snd_wscale;
  uint32_t rcv_wscale;
  uint32_t timestamp;

  uint32_t flags; /* SOCCR_FLAGS_... below */
  uint32_t snd_wl1;
  uint32_t snd_wnd;
  uint32_t max_window;
  uint32_t rcv_wnd;
  uint32_t rcv_wup;
};

/* `flags`: snd_wl1, snd_wnd, max_window, rcv_wnd and rcv_wup are valid. */
#define SOCCR_FLAGS_WINDOW 0x1

/* For the `flags` of the get and set calls: see "Ownership" above. */
#define SOCCR_MEM_EXCL 0x1

/*
 * libsoccr_pause puts the TCP socket `fd` into repair mode and returns a
 * handle on it, or NULL (not a TCP socket, or no CAP_NET_ADMIN in the
 * socket's network namespace). A listening socket, which the kernel keeps
 * out of repair mode, is held as it is. The caller keeps `fd` and must keep
 * it open until the handle is resumed or released; it should stop the
 * peer's packets from reaching the socket first.
 *
 * Without CAP_NET_ADMIN: only switching repair mode itself needs the
 * capability (every other repair operation needs just the socket in repair
 * mode). When the environment variable SOCCR_REPAIR_HELPER names the unix
 * socket of a `soccr-repair --listen PATH` service (a small helper that
 * holds the capability, e.g. `setcap cap_net_admin+ep soccr-repair`, and
 * serves the socket file owner's uid by default), every handle switches
 * repair mode through it and makes all other calls itself; the variable is
 * read once, at the first libsoccr_pause of the process. The helper is
 * reached at the first pause and again whenever it closed the connection.
 * When repair mode is refused, the logged error says so and names
 * SOCCR_REPAIR_HELPER (or, when set, the helper it went through).
 */
struct libsoccr_sk *libsoccr_pause(int fd);

/*
 * libsoccr_resume takes the socket out of repair mode (after a restore it
 * first asks the peer what it has of the data and FIN that were in flight,
 * waiting at most 50 ms for the answer, and then queues what the peer lacks
 * and the data the original had not sent yet, in a send buffer made big
 * enough for it; a size the caller set since libsoccr_restore is given back
 * afterwards) and frees the handle
 * and every buffer the library still owns. If that fails, or after a
 * libsoccr_restore that failed, the socket is left in repair mode instead
 * (logged): never half-resumed, and closing it sends nothing. NULL is
 * ignored (and logged).
 */
void libsoccr_resume(struct libsoccr_sk *sk);

/*
 * libsoccr_release frees the handle like libsoccr_resume but leaves the
 * socket in repair mode, so that closing it sends nothing to the peer (to
 * migrate a connection). Data a restore held in flight goes back into the
 * socket as sent; unsent data held by a restore is discarded.
 */
void libsoccr_release(struct libsoccr_sk *sk);

/*
 * libsoccr_save reads the paused connection's state (and both queues, for
 * libsoccr_get_queue_bytes) and fills the first 68 bytes of `data`;
 * `data_size` is the size of the caller's buffer and must be at least
 * sizeof(struct libsoccr_sk_data). Returns the number of bytes filled, or
 * -1. May be called again: each call takes a fresh checkpoint.
 */
int libsoccr_save(struct libsoccr_sk *sk, struct libsoccr_sk_data *data,
                  unsigned data_size);

/*
 * libsoccr_get_queue_bytes returns the bytes of TCP_RECV_QUEUE (data.inq_len
 * of them) or TCP_SEND_QUEUE (data.outq_len) as of the last libsoccr_save,
 * in memory from malloc(). An empty queue gives a valid pointer too, so
 * NULL always means an error (no libsoccr_save yet, a bad queue id or flag,
 * no memory). `flags` may have SOCCR_MEM_EXCL.
 */
char *libsoccr_get_queue_bytes(struct libsoccr_sk *sk, int queue_id,
                               unsigned flags);

/*
 * libsoccr_get_addr returns the local (`self` != 0) or peer (`self` == 0)
 * address of the paused socket (as of the last libsoccr_save, if any), or
 * NULL (e.g. no peer yet). `flags` may have SOCCR_MEM_EXCL.
 */
union libsoccr_addr *libsoccr_get_addr(struct libsoccr_sk *sk, int self,
                                       unsigned flags);

/*
 * libsoccr_set_queue_bytes gives the bytes of a queue to restore; its
 * length is data.inq_len or data.outq_len at libsoccr_restore(). Setting a
 * queue again replaces it. Returns 0 or -1. `flags` may have SOCCR_MEM_EXCL.
 */
int libsoccr_set_queue_bytes(struct libsoccr_sk *sk, int queue_id, char *bytes,
                             unsigned flags);

/*
 * libsoccr_set_addr gives the local (`self` != 0) or peer address to
 * restore: sa.sa_family must be AF_INET or AF_INET6. The address is copied
 * at once. Returns 0 or -1. `flags` may have SOCCR_MEM_EXCL.
 */
int libsoccr_set_addr(struct libsoccr_sk *sk, int self,
                      union libsoccr_addr *addr, unsigned flags);

/*
 * libsoccr_restore gives the paused socket (a new, unconnected TCP socket of
 * the addresses' family) the connection in `data`, with the queues and
 * addresses set before (a listener needs only its local address). Every
 * state libsoccr_save reports can be restored; a listener gets the backlog
 * SOMAXCONN, as libsoccr_sk_data has no field for it. `data_size` must be at
 * least sizeof(*data); bytes beyond are ignored. The state is checked before
 * the socket is touched. Never blocks: queues of any size go in without the
 * caller preparing the socket (socket buffers are sized as needed; if the
 * process may not, the error names the sysctl to raise). Returns 0, or -1 with
 * the socket still in repair mode (release it and close it: nothing reaches the
 * peer).
 */
int libsoccr_restore(struct libsoccr_sk *sk, struct libsoccr_sk_data *data,
                     unsigned data_size);

/* The layout of struct libsoccr_sk_data is libsoccr's, byte for byte. */
#if defined(__cplusplus)
#define SOCCR_LAYOUT_ASSERT_(cond, name) static_assert(cond, #name)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define SOCCR_LAYOUT_ASSERT_(cond, name) _Static_assert(cond, #name)
#else /* C99: an array of negative size does not compile. */
#define SOCCR_LAYOUT_ASSERT_(cond, name) \
  typedef char soccr_layout_assert_##name[(cond) ? 1 : -1]
#endif
#define SOCCR_OFFSET_ASSERT_(field, offset)                                \
  SOCCR_LAYOUT_ASSERT_(offsetof(struct libsoccr_sk_data, field) == offset, \
                       field##_at_##offset)
SOCCR_OFFSET_ASSERT_(state, 0);
SOCCR_OFFSET_ASSERT_(inq_len, 4);
SOCCR_OFFSET_ASSERT_(inq_seq, 8);
SOCCR_OFFSET_ASSERT_(outq_len, 12);
SOCCR_OFFSET_ASSERT_(outq_seq, 16);
SOCCR_OFFSET_ASSERT_(unsq_len, 20);
SOCCR_OFFSET_ASSERT_(opt_mask, 24);
SOCCR_OFFSET_ASSERT_(mss_clamp, 28);
SOCCR_OFFSET_ASSERT_(snd_wscale, 32);
SOCCR_OFFSET_ASSERT_(rcv_wscale, 36);
SOCCR_OFFSET_ASSERT_(timestamp, 40);
SOCCR_OFFSET_ASSERT_(flags, 44);
SOCCR_OFFSET_ASSERT_(snd_wl1, 48);
SOCCR_OFFSET_ASSERT_(snd_wnd, 52);
SOCCR_OFFSET_ASSERT_(max_window, 56);
SOCCR_OFFSET_ASSERT_(rcv_wnd, 60);
SOCCR_OFFSET_ASSERT_(rcv_wup, 64);
SOCCR_LAYOUT_ASSERT_(sizeof(struct libsoccr_sk_data) == 68,
                     libsoccr_sk_data_is_68_bytes);
#undef SOCCR_OFFSET_ASSERT_
#undef SOCCR_LAYOUT_ASSERT_

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SOCCR_C_SOCCR_H_ */
