/* The memview linux backend's fault-catching helper: real loads and stores that survive a fault.
 *
 * A client process performs every access of a trace through mv_access: the load or store is a
 * real instruction on the real mapping, and a SIGSEGV or SIGBUS it raises is caught by a
 * SA_SIGINFO handler that records the signal, its si_code and the fault address and jumps back
 * with siglongjmp. Python signal handlers cannot do this (they run after the faulting instruction
 * would have to be restarted), and probes through pipes or process_vm_readv see EFAULT for both
 * signals alike, so the verdict has to come from here.
 *
 * SA_NODEFER keeps the signal unblocked inside the handler, so siglongjmp need not restore the
 * signal mask and sigsetjmp(…, 0) avoids a sigprocmask system call on every access. The armed flag
 * is volatile sig_atomic_t: a fault while it is clear is not ours (a bug in the client itself),
 * so the handler restores the default action and re-raises, and the client dies with the signal
 * as it would have without the helper. The handlers are checked before each batch of accesses and
 * installed again if something (pytest's faulthandler, Python's own signal module) replaced them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_mseal
#define SYS_mseal 462 /* x86-64 and the generic table, Linux 6.10 */
#endif

static sigjmp_buf mv_jump;
static volatile sig_atomic_t mv_armed;
static volatile int mv_signo, mv_code;
static volatile uintptr_t mv_fault_addr;

static void mv_handler(int signo, siginfo_t *info, void *context) {
    (void)context;
    if (!mv_armed) {
        signal(signo, SIG_DFL);
        raise(signo);
        return;
    }
    mv_armed = 0;
    mv_signo = signo;
    mv_code = info->si_code;
    mv_fault_addr = (uintptr_t)info->si_addr;
    siglongjmp(mv_jump, 1);
}

/* 0 when our handler is in place for SIGSEGV and SIGBUS (installing it if needed), else -errno. */
static int mv_ensure_handlers(void) {
    static const int signals[2] = {SIGSEGV, SIGBUS};
    for (int i = 0; i < 2; i++) {
        struct sigaction current;
        if (sigaction(signals[i], NULL, &current) != 0)
            return -errno;
        if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == mv_handler)
            continue;
        struct sigaction ours;
        memset(&ours, 0, sizeof ours);
        ours.sa_sigaction = mv_handler;
        ours.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&ours.sa_mask);
        if (sigaction(signals[i], &ours, NULL) != 0)
            return -errno;
    }
    return 0;
}

/* One load (kind 1) or store (kind 2) of a byte, the handlers assumed in place. Returns 0 on
 * success (the byte read in *value) or 1 on a fault (signal, si_code and address filled in). */
static inline int mv_access_armed(uintptr_t addr, int kind, uint8_t byte, uint8_t *value, int *signo, int *code,
                                  uintptr_t *fault_addr) {
    if (sigsetjmp(mv_jump, 0) != 0) {
        *signo = mv_signo;
        *code = mv_code;
        *fault_addr = mv_fault_addr;
        return 1;
    }
    mv_armed = 1;
    if (kind == 2) {
        *(volatile uint8_t *)addr = byte;
        *value = 0;
    } else {
        *value = *(volatile uint8_t *)addr;
    }
    mv_armed = 0;
    return 0;
}

/* The same, first making sure the handlers are ours (Python code ran since the last access, and
 * may have replaced them). -errno if they cannot be installed. */
static int mv_access(uintptr_t addr, int kind, uint8_t byte, uint8_t *value, int *signo, int *code,
                     uintptr_t *fault_addr) {
    int rc = mv_ensure_handlers();
    if (rc != 0)
        return rc;
    return mv_access_armed(addr, kind, byte, value, signo, code, fault_addr);
}

/* count loads at base, base + stride, ... (wrapping within span): the batch the benchmark times.
 * Returns the number of loads that faulted. The jump target is set once for the whole batch and a
 * fault resumes at the next load, so a load that succeeds costs what an unchecked one does plus
 * keeping the position in memory (volatile: it must survive siglongjmp). */
static long mv_read_batch(uintptr_t base, size_t span, size_t stride, long count) {
    volatile long index = 0, faults = 0;
    volatile size_t offset = 0;
    int rc = mv_ensure_handlers(); /* once: no Python code runs inside the batch */
    if (rc != 0)
        return rc;
    if (sigsetjmp(mv_jump, 0) != 0) {
        faults = faults + 1;
        index = index + 1;
        offset = offset + stride >= span ? 0 : offset + stride;
    }
    mv_armed = 1;
    while (index < count) {
        (void)*(volatile uint8_t *)(base + offset);
        index = index + 1;
        offset = offset + stride >= span ? 0 : offset + stride;
    }
    mv_armed = 0;
    return faults;
}

/* The raw floor for the benchmark: the same loads with no fault catching at all. */
static long mv_read_raw(uintptr_t base, size_t span, size_t stride, long count) {
    long sum = 0;
    size_t offset = 0;
    for (long i = 0; i < count; i++) {
        sum += *(volatile uint8_t *)(base + offset);
        offset += stride;
        if (offset >= span)
            offset = 0;
    }
    return sum;
}

/* The memory system calls a client makes on its reservation, as numbers: the address on success
 * or -errno (Python's mmap module cannot ask for MAP_FIXED or MAP_FIXED_NOREPLACE). */
static long mv_mmap(uintptr_t addr, size_t length, int prot, int flags, int fd, uint64_t offset) {
    void *got = mmap((void *)addr, length, prot, flags, fd, (off_t)offset);
    return got == MAP_FAILED ? -errno : (long)got;
}

static long mv_munmap(uintptr_t addr, size_t length) {
    return munmap((void *)addr, length) == 0 ? 0 : -errno;
}

static long mv_mprotect(uintptr_t addr, size_t length, int prot) {
    return mprotect((void *)addr, length, prot) == 0 ? 0 : -errno;
}

static long mv_mseal(uintptr_t addr, size_t length) {
    return syscall(SYS_mseal, addr, length, 0) == 0 ? 0 : -errno;
}

/* Orphaned descendants (a client's forked children whose parent died) are re-parented to the
 * coordinator, so it can reap every process it caused and leave no zombie behind. */
static int mv_become_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 ? 0 : -errno;
}

/* ---- a real instruction fetch, for exec accesses ----
 *
 * Run in a throwaway child forked for one exec access: it jumps to the target with the trap flag
 * set and every general register zeroed, so the CPU fetches the target's instruction for real. A
 * fetch the page tables refuse faults at the target before anything executes (SIGSEGV or SIGBUS
 * with si_addr at the target); a fetch that succeeds executes that one instruction and traps after
 * it (or faults in it). Before the jump the child has made every shared mapping PROT_NONE except
 * the target page, which it made read-only, closed its fds but the report pipe, and entered
 * seccomp's strict mode, so the one instruction can change nothing anyone else sees. The child
 * reports {outcome, signal, si_code} on the pipe and exits with the exit system call (the only
 * exit strict mode allows). */
#include <linux/seccomp.h>
#include <ucontext.h>

static volatile uintptr_t mv_fetch_target;
static volatile int mv_fetch_arrived;
static int mv_fetch_report_fd;

static void mv_fetch_report(int outcome, int signo, int code) {
    int message[3] = {outcome, signo, code};
    syscall(SYS_write, mv_fetch_report_fd, message, sizeof message);
    syscall(SYS_exit, 0);
}

static void mv_fetch_handler(int signo, siginfo_t *info, void *context) {
    ucontext_t *uc = context;
    uintptr_t rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    if (!mv_fetch_arrived) {
        if (signo == SIGTRAP && rip == mv_fetch_target) {
            mv_fetch_arrived = 1; /* at the target, nothing fetched yet: return and fetch it */
            return;
        }
        if (signo == SIGTRAP)
            return; /* single-stepping the jump's own instructions */
        mv_fetch_report(2, signo, info->si_code); /* something went wrong before the jump */
    }
    if ((signo == SIGSEGV || signo == SIGBUS) && (uintptr_t)info->si_addr == mv_fetch_target)
        mv_fetch_report(1, signo, info->si_code); /* the fetch itself faulted */
    mv_fetch_report(0, signo, 0); /* the instruction was fetched (and executed, or faulted in executing) */
}

static int mv_fetch(uintptr_t target, int report_fd) {
    static char alternate[1 << 16];
    stack_t stack = {.ss_sp = alternate, .ss_size = sizeof alternate, .ss_flags = 0};
    if (sigaltstack(&stack, NULL) != 0)
        return -errno;
    static const int signals[] = {SIGSEGV, SIGBUS, SIGTRAP, SIGILL, SIGFPE, SIGSYS};
    for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = mv_fetch_handler;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&action.sa_mask);
        if (sigaction(signals[i], &action, NULL) != 0)
            return -errno;
    }
    mv_fetch_target = target;
    mv_fetch_report_fd = report_fd;
    mv_fetch_arrived = 0;
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0)
        return -errno;
    __asm__ volatile(
        "pushfq\n\t"
        "orq $0x100, (%%rsp)\n\t"
        "popfq\n\t"
        "xorl %%eax, %%eax\n\t"
        "xorl %%ebx, %%ebx\n\t"
        "xorl %%ecx, %%ecx\n\t"
        "xorl %%edx, %%edx\n\t"
        "xorl %%esi, %%esi\n\t"
        "xorl %%edi, %%edi\n\t"
        "xorl %%ebp, %%ebp\n\t"
        "xorl %%r8d, %%r8d\n\t"
        "xorl %%r9d, %%r9d\n\t"
        "xorl %%r10d, %%r10d\n\t"
        "xorl %%r11d, %%r11d\n\t"
        "xorl %%r12d, %%r12d\n\t"
        "xorl %%r13d, %%r13d\n\t"
        "xorl %%r14d, %%r14d\n\t"
        "xorl %%r15d, %%r15d\n\t"
        "xorl %%esp, %%esp\n\t"
        "jmp *mv_fetch_target(%%rip)\n\t"
        :
        :
        : "memory");
    return 0; /* not reached */
}
