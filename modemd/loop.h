/* The one event loop: epoll over every fd the daemon owns. Timers are
 * timerfds, signals a signalfd, children pidfds. Handles may be deleted from
 * inside their own (or any) callback: memory is released after the dispatch
 * round, and a deleted handle's callback never runs again. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct loop;
struct loop_io;
struct loop_timer;
struct loop_child;

typedef void (*loop_io_cb)(struct loop_io *io, int fd, uint32_t events, void *data);
typedef void (*loop_timer_cb)(struct loop_timer *t, void *data);
typedef void (*loop_signal_cb)(struct loop *l, int signo, void *data);
/* status is a wait(2)-style status (WIFEXITED/WEXITSTATUS work on it). */
typedef void (*loop_child_cb)(struct loop_child *c, pid_t pid, int status, void *data);

struct loop *loop_new(void);
/* NULL-safe; closes nothing the caller owns (fds given to loop_io_add). */
struct loop *loop_free(struct loop *l);

/* Watch fd for EPOLLIN/EPOLLOUT/...; the fd stays the caller's. */
struct loop_io *loop_io_add(struct loop *l, int fd, uint32_t events, loop_io_cb cb, void *data);
int loop_io_mod(struct loop_io *io, uint32_t events);
/* NULL-safe; returns NULL. */
struct loop_io *loop_io_del(struct loop_io *io);

struct loop_timer *loop_timer_new(struct loop *l, loop_timer_cb cb, void *data);
/* One-shot, relative; re-arming replaces the previous deadline. */
int loop_timer_arm(struct loop_timer *t, uint64_t ms);
void loop_timer_disarm(struct loop_timer *t);
bool loop_timer_armed(const struct loop_timer *t);
/* NULL-safe; returns NULL. */
struct loop_timer *loop_timer_free(struct loop_timer *t);

/* Block signo and deliver it through the loop. */
int loop_signal_add(struct loop *l, int signo, loop_signal_cb cb, void *data);

/* Watch a child started by the caller; the loop reaps it and calls cb once. */
struct loop_child *loop_child_add(struct loop *l, pid_t pid, loop_child_cb cb, void *data);
/* Stop watching (the child is not killed, and is no longer reaped by us). */
struct loop_child *loop_child_del(struct loop_child *c);

/* Run until loop_quit(); returns the code given to loop_quit. */
int loop_run(struct loop *l);
void loop_quit(struct loop *l, int code);
/* One round: wait at most timeout_ms (-1 forever) and dispatch. For tests. */
int loop_iterate(struct loop *l, int timeout_ms);
