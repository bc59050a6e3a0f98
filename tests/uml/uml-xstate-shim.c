// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * LD_PRELOAD shim for /usr/bin/linux.uml (Debian 6.1) on hosts with large
 * XSAVE areas (AMX): UML saves and restores its processes' FPU state with
 * PTRACE_{GET,SET}REGSET NT_X86_XSTATE and a 4 KiB buffer, but the host
 * kernel only accepts a SETREGSET of exactly the full XSAVE size and answers
 * EFAULT: "userspace - ptrace set fp regs failed, errno = 14" and a dead
 * init. Here a short SETREGSET is completed with the tail of the current
 * state (the AMX tile data, which UML processes never use) and sent at the
 * size the kernel wants. Built and preloaded by tests/uml/uml-run.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

/* UML runs its kernel on one host thread at a time: one buffer is enough. */
static unsigned char full_state[64 * 1024] __attribute__((aligned(64)));

static long raw_ptrace(long req, pid_t pid, void *addr, void *data)
{
	return syscall(SYS_ptrace, req, pid, addr, data);
}

long ptrace(enum __ptrace_request request, ...)
{
	static long (*real)(enum __ptrace_request, ...);
	va_list ap;
	pid_t pid;
	void *addr, *data;

	va_start(ap, request);
	pid = va_arg(ap, pid_t);
	addr = va_arg(ap, void *);
	data = va_arg(ap, void *);
	va_end(ap);

	if (request == PTRACE_SETREGSET && (long)addr == NT_X86_XSTATE && data) {
		struct iovec *want = data;
		struct iovec full = { full_state, sizeof(full_state) };

		if (raw_ptrace(PTRACE_GETREGSET, pid, addr, &full) == 0 &&
		    want->iov_len < full.iov_len) {
			memcpy(full_state, want->iov_base, want->iov_len);
			return raw_ptrace(PTRACE_SETREGSET, pid, addr, &full);
		}
	}
	if (!real)
		real = (long (*)(enum __ptrace_request, ...))dlsym(RTLD_NEXT, "ptrace");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(request, pid, addr, data);
}
