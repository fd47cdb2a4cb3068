/*
 * memview's standard small configuration (memview/checker/alphabet.py, default_scope) in Promela,
 * for the SPIN peer benchmark (bench/bench_spin.py). It is a benchmark model, not a second
 * specification: it follows the Python rules (memview/model/rules_*.py) for the operations of the
 * 65-action alphabet only, starting from the state after the fixed set-up prefix.
 *
 * The configuration after the prefix: page size 4096 (everything below is in pages), a 2-page view,
 * 2 range slots, 2 objects (0 = "ram", a sealable memfd of 2 pages holding 7 at page 1; 1 = "file",
 * a regular file of 2 pages holding 9 at page 0, which A holds read-only), A's fds 0 (control),
 * 1 (ram, rw), 3 (file, ro); client B1 with a rw view fd (fd 0) and a ro view fd (fd 1) and one
 * shared mapping per view page; one fork slot (B1's child); 3 vma slots per process.
 *
 * Variants (spin -D...), each one seeded bug, named by memview's broken design or mutant (`memview
 * mutants`) and the property that catches it; at most one at a time:
 *   REVOCATION_SKIP      revocation=skip / revoke-skipped: UNMAP_FD and a shrink zap no client's
 *                        cached translations (REVOKE)
 *   PERM_OR              perm-combine=or / perms-ored: B's prot and A's perms ORed, not ANDed (AND)
 *   XLATE_MEMOFF         translation=mem-offset / translate-by-mem-offset: a view page translates
 *                        through the view offset instead of fd_offset (XLATE)
 *   SHRINK_KEEP          shrink-keeps-translations (shrink-zap=keep): shrinking the view drops the
 *                        ranges beyond the new size but zaps no cached translation there (REVOKE)
 *   REVOKE_LAST_PAGE     revoke-misses-last-page: UNMAP_FD zaps [lo, hi - 1) only, so the span's last
 *                        page keeps its cached translations (REVOKE)
 *   RANGE_END_INCLUSIVE  range-end-inclusive: the access's range lookup takes a range's end as
 *                        inclusive, so a page just past a range that no other range covers is served
 *                        by that range, with its offset and perms (AND)
 *   EXEC_AS_READ         exec-checked-as-read: a fetch is checked against A's R instead of its X (AND)
 *   MPROTECT_UPGRADES    mprotect-upgrades-ptes: a cached translation carries none of A's perms, so a
 *                        cached page allows whatever the mapping's current prot allows (AND)
 * Every variant only adds code under its #ifdef: without any, pan's state space is the seed's.
 * The assertions judge the real layout (as memview's properties do), not the mutated rule's view of
 * it. Properties as assertions: -DONLY_REVOKE, -DONLY_AND or -DONLY_XLATE checks one; none checks
 * all three.
 *
 * The depth bound is pan's own: compile with -DBFS and run pan -m(DEPTH+1); the extra level is the
 * one d_step that puts the set-up state in place, so SPIN's stored states are explore's plus one.
 */

/* Each property is always compiled and read (a ghost no assertion reads would be dropped from the
   state vector by spin, and the state count would no longer be explore's); -DONLY_REVOKE etc. turn
   the other assertions into `true`. */
#ifdef ONLY_REVOKE
#define CHK_REVOKE 1
#define CHK_AND 0
#define CHK_XLATE 0
#endif
#ifdef ONLY_AND
#define CHK_REVOKE 0
#define CHK_AND 1
#define CHK_XLATE 0
#endif
#ifdef ONLY_XLATE
#define CHK_REVOKE 0
#define CHK_AND 0
#define CHK_XLATE 1
#endif
#ifndef CHK_REVOKE
#define CHK_REVOKE 1
#define CHK_AND 1
#define CHK_XLATE 1
#endif

#define R 1
#define W 2
#define X 4
#define MAYWRITE 16      /* VMA_MAYWRITE */
#define PTE_VALID 8      /* a cached translation: PTE_VALID | perms | obj << 4 */
#define SEAL_SEAL 1
#define SEAL_SHRINK 2
#define SEAL_WRITE 8
#define SEAL_FUTURE_WRITE 16
#define LAST 255         /* "every page from here up" (revocation.last_page) */

/* Observations (only what the properties need). */
#define OK 0
#define ERR 1
#define SIG 2

/* Objects: size in pages, seals, the byte at the start of each of their two pages (the only bytes
   the alphabet writes or reads: every access and pwrite is at a page start). */
byte osize[2];
byte oseals[2];
byte odata[4];            /* odata[obj * 2 + page] */
bool ctl;                 /* A's fd 0, the only control fd; its close clears control_open too */
byte vsize;               /* view size in pages */
bool r_used[2];
byte r_lo[2];
byte r_hi[2];
byte r_obj[2];
short r_delta[2];         /* backing page - view page */
byte r_perms[2];
bool alive2;              /* the fork slot (process 2) */
bool fd0[3];              /* fd 0 (the rw view fd) of B1 (1) and the child (2); fd 1 (ro) is always open */
/* Client mappings, index (proc - 1) * 3 + slot; process pages relative to 2^40 / 4096. */
bool v_used[6];
byte v_lo[6];
byte v_hi[6];
short v_delta[6];         /* view page - process page */
byte v_attrs[6];          /* prot | MAYWRITE */
byte next_page[3];
byte pte[4];              /* (proc - 1) * 2 + view page */
byte pte_page[4];
bool revoked[3];          /* ghost: view page 0, 1, and every page from 2 up */

/* What the assertions read of the range covering the accessed page: the real layout. Only
   RANGE_END_INCLUSIVE's rule looks the range up differently, so only it needs copies of the real
   lookup; otherwise these are the rule's own temporaries and the state vector is the seed's. */
#ifdef RANGE_END_INCLUSIVE
byte layout_configured, layout_rperms, layout_robj;
short layout_rdelta;
#define RESET_LAYOUT ; layout_configured = 0; layout_rperms = 0; layout_robj = 0; layout_rdelta = 0
#define LAYOUT_CONFIGURED layout_configured
#define LAYOUT_RPERMS layout_rperms
#define LAYOUT_ROBJ layout_robj
#define LAYOUT_RDELTA layout_rdelta
#else
#define RESET_LAYOUT
#define LAYOUT_CONFIGURED configured
#define LAYOUT_RPERMS rperms
#define LAYOUT_ROBJ robj
#define LAYOUT_RDELTA rdelta
#endif

/* Temporaries of one step. pan's BFS refuses `hidden` variables, so they are ordinary globals that
   every step sets back to 0 at its end (DONE): they are the same in every stored state and add
   nothing to the state count, only bytes to the state vector. */
byte err, i, slot, perms, prot, rperms, robj, oi, pteval, comb, vi, obs;
short vpage, rdelta, bpage, lb;
byte mapped, configured, cached, allowed, vma_denied, far, busy;
byte before[4];
#define DONE err = 0; i = 0; slot = 0; perms = 0; prot = 0; rperms = 0; robj = 0; oi = 0; pteval = 0; \
  comb = 0; vi = 0; obs = 0; vpage = 0; rdelta = 0; bpage = 0; lb = 0; mapped = 0; configured = 0; \
  cached = 0; allowed = 0; vma_denied = 0; far = 0; busy = 0; before[0] = 0; before[1] = 0; \
  before[2] = 0; before[3] = 0 RESET_LAYOUT

#define VI(p, s) (((p) - 1) * 3 + (s))
#define PI(p, v) (((p) - 1) * 2 + (v))
/* The first failing check decides (the rules' `guarded` lists). */
/* One action: a single atomic transition, so pan's depth counts actions. The label is printed only
   when spin replays a trail (spin -t), which is how bench_spin.py shows SPIN's counterexample. */
#define STEP(label, body) d_step { printf("MEMVIEW "); printf(label); printf("\n"); body; DONE }
#define CHECK(c, e) if :: err == 0 && (c) -> err = e :: else -> skip fi
#define CLEAR_RANGE(k) r_used[k] = 0; r_lo[k] = 0; r_hi[k] = 0; r_obj[k] = 0; r_delta[k] = 0; r_perms[k] = 0
#define CLEAR_VMA(k) v_used[k] = 0; v_lo[k] = 0; v_hi[k] = 0; v_delta[k] = 0; v_attrs[k] = 0

/* revocation.revoke: drop every process's cached translations of [lo, hi), set the ghost. The two
   halves are separate inlines because SHRINK_KEEP and REVOKE_LAST_PAGE break only the first. */
inline zap(lo, hi) {
#ifdef REVOCATION_SKIP
  skip                                                          /* Promela has no empty inline */
#else
  for (i : 0 .. 3) {
    if
    :: lo <= i % 2 && i % 2 < hi -> pte[i] = 0; pte_page[i] = 0
    :: else -> skip
    fi
  }
#endif
}

/* The ghost REVOKE reads: the pages A took away, set whether or not the design zapped them. */
inline mark_revoked(lo, hi) {
  for (i : 0 .. 2) {
    if
    :: lo <= i && (i < hi || hi == LAST) -> revoked[i] = 1
    :: else -> skip
    fi
  }
}

inline revoke(lo, hi) {
  zap(lo, hi);
  mark_revoked(lo, hi)
}

/* view_map_fd by A through its control fd; FDOFF, SIZE, MEM in pages; MODE of the src fd. */
inline map_fd(OBJ, MODE, FDOFF, SIZE, MEM, PERMS) {
  err = 0;
  perms = PERMS;
  CHECK(!ctl, 9);                                               /* EBADF */
  if :: perms == 0 -> perms = R | W :: else -> skip fi          /* empty-perms=read-write */
  CHECK((perms & W) && !(perms & R), 22);                       /* write-only=einval */
  CHECK(MEM + SIZE > vsize, 22);                                /* EINVAL: past the view's size */
  CHECK((perms & W) && !(MODE & W), 13);                        /* map-perm=refuse: EACCES */
  CHECK((perms & W) && (oseals[OBJ] & (SEAL_WRITE | SEAL_FUTURE_WRITE)), 1);   /* EPERM */
  busy = 0;
  for (i : 0 .. 1) {
    if :: r_used[i] && r_lo[i] < MEM + SIZE && MEM < r_hi[i] -> busy = 1 :: else -> skip fi
  }
  CHECK(busy, 17);                                              /* overlap=eexist */
  slot = (!r_used[0] -> 0 : (!r_used[1] -> 1 : 2));
  CHECK(slot == 2, 28);                                         /* ENOSPC */
  if
  :: err == 0 ->
     r_used[slot] = 1; r_lo[slot] = MEM; r_hi[slot] = MEM + SIZE; r_obj[slot] = OBJ;
     r_delta[slot] = FDOFF - MEM; r_perms[slot] = perms;
     for (i : 0 .. 1) {
       if :: MEM <= i && i < MEM + SIZE -> revoked[i] = 0 :: else -> skip fi
     }
  :: else -> skip
  fi
}

/* view_unmap_fd (unmap-span=split): cut [MEM, MEM + SIZE) out of every range, then revoke it. */
inline unmap_fd(MEM, SIZE) {
  err = 0;
  CHECK(!ctl, 9);
  CHECK(MEM + SIZE > vsize, 22);
  if
  :: err == 0 ->
     for (i : 0 .. 1) {
       if
       :: r_used[i] && r_lo[i] < MEM + SIZE && MEM < r_hi[i] ->
          assert(!(r_lo[i] < MEM && MEM + SIZE < r_hi[i]));   /* no split of a range in two here */
          if
          :: r_lo[i] < MEM -> r_hi[i] = MEM
          :: MEM + SIZE < r_hi[i] -> r_lo[i] = MEM + SIZE
          :: else -> CLEAR_RANGE(i)
          fi
       :: else -> skip
       fi
     }
#ifdef REVOKE_LAST_PAGE
     zap(MEM, MEM + SIZE - 1);                                  /* mutant: the last page is missed */
     mark_revoked(MEM, MEM + SIZE)
#else
     revoke(MEM, MEM + SIZE)
#endif
  :: else -> skip
  fi
}

/* view_set_size (sizing=ioctl, shrink=revoke). */
inline set_size(N) {
  err = 0;
  CHECK(!ctl, 9);
  if
  :: err == 0 ->
     for (i : 0 .. 1) {
       if
       :: r_used[i] && r_hi[i] > N ->
          if :: r_lo[i] < N -> r_hi[i] = N :: else -> CLEAR_RANGE(i) fi
       :: else -> skip
       fi
     }
#ifdef SHRINK_KEEP
     if :: N < vsize -> mark_revoked(N, LAST) :: else -> skip fi;   /* mutant: no zap */
#else
     if :: N < vsize -> revoke(N, LAST) :: else -> skip fi;
#endif
     vsize = N
  :: else -> skip
  fi
}

/* A's pwrite(fd 1 = ram, offset 0, byte 1). */
inline pwrite_ram() {
  if
  :: oseals[0] & (SEAL_WRITE | SEAL_FUTURE_WRITE) -> skip     /* EPERM */
  :: else -> odata[0] = 1
  fi
}

/* A's ftruncate(fd 1 = ram, N pages); a growing memfd keeps its bytes (rules_backing). */
inline ftruncate_ram(N) {
  if
  :: N < osize[0] && (oseals[0] & SEAL_SHRINK) -> skip         /* EPERM */
  :: else ->
     if
     :: N < osize[0] -> for (i : 0 .. 1) { if :: i >= N -> odata[i] = 0 :: else -> skip fi }
     :: else -> skip
     fi;
     osize[0] = N
  fi
}

/* A's F_ADD_SEALS on ram (seal-write=ebusy). */
inline seal_ram(S) {
  err = 0;
  CHECK(oseals[0] & SEAL_SEAL, 1);
  busy = 0;
  for (i : 0 .. 1) {
    if :: r_used[i] && r_obj[i] == 0 && (r_perms[i] & W) -> busy = 1 :: else -> skip fi
  }
  CHECK((S & SEAL_WRITE) && busy, 16);                          /* EBUSY */
  if :: err == 0 -> oseals[0] = oseals[0] | S :: else -> skip fi
}

/* rules_access.access for client P at process page A (an address at a page start), kind K, byte 2. */
inline access(P, A, K) {
  obs = ERR;                                                    /* ESRCH for a dead child */
  if
  :: P == 1 || alive2 ->
     mapped = 0; vi = 0;
     for (i : 0 .. 2) {
       if :: v_used[VI(P, i)] && v_lo[VI(P, i)] <= A && A < v_hi[VI(P, i)] -> mapped = 1; vi = VI(P, i)
          :: else -> skip fi
     }
     if
     :: !mapped -> obs = SIG                                    /* SEGV_MAPERR */
     :: else ->
        vpage = A + v_delta[vi];
        prot = v_attrs[vi] & 7;
        configured = 0; rperms = 0; robj = 0; rdelta = 0;
        for (i : 0 .. 1) {
          if :: r_used[i] && r_lo[i] <= vpage && vpage < r_hi[i] ->
                configured = 1; rperms = r_perms[i]; robj = r_obj[i]; rdelta = r_delta[i]
             :: else -> skip fi
        }
#ifdef RANGE_END_INCLUSIVE
        /* mutant: the rule also takes the range ending at vpage (r_hi inclusive) when no range
           covers vpage; the assertions keep the real lookup */
        layout_configured = configured; layout_rperms = rperms; layout_robj = robj; layout_rdelta = rdelta;
        for (i : 0 .. 1) {
          if :: !layout_configured && r_used[i] && vpage == r_hi[i] ->
                configured = 1; rperms = r_perms[i]; robj = r_obj[i]; rdelta = r_delta[i]
             :: else -> skip fi
        }
#endif
        pteval = (vpage < 2 -> pte[PI(P, vpage)] : 0);
        cached = (pteval & PTE_VALID) != 0;
#ifdef MPROTECT_UPGRADES
        perms = (cached -> (R | W | X) : rperms);                  /* mutant: a PTE keeps no perms of A */
#else
        perms = (cached -> pteval & 7 : rperms);
#endif
        oi = (cached -> pteval >> 4 : robj);
#ifdef XLATE_MEMOFF
        bpage = (cached -> pte_page[PI(P, vpage)] : vpage);
#else
        bpage = (cached -> pte_page[PI(P, vpage)] : vpage + rdelta);
#endif
#ifdef PERM_OR
        comb = prot | perms;
        allowed = (comb & K) == K;
        vma_denied = !allowed;
#else
#ifdef EXEC_AS_READ
        allowed = (prot & K) == K && (perms & (K == X -> R : K)) != 0;   /* mutant: a fetch asks A for R */
#else
        comb = prot & perms;
        allowed = (comb & K) == K;
#endif
        vma_denied = (prot & K) != K;
#endif
        far = K == X && !(prot & X) && prot != 0 && !cached;     /* a fetch handled as a read fault */
        obs = OK;
        if :: vma_denied && !far -> obs = SIG :: else -> skip fi;              /* SEGV_ACCERR */
        if :: obs == OK && vpage >= vsize -> obs = SIG :: else -> skip fi;     /* SIGBUS */
        if :: obs == OK && !cached && !configured -> obs = SIG :: else -> skip fi;  /* unconfigured */
        if :: obs == OK && (far -> !(perms & R) : !allowed) -> obs = SIG :: else -> skip fi;  /* denied */
        if :: obs == OK && (bpage < 0 || bpage >= osize[oi]) -> obs = SIG :: else -> skip fi;  /* EOF */
        if
        :: obs == OK && far ->                                   /* present now; the fetch faults */
           obs = SIG;
           if :: !cached -> pte[PI(P, vpage)] = PTE_VALID | perms | (oi << 4); pte_page[PI(P, vpage)] = bpage
              :: else -> skip fi
        :: obs == OK ->
           assert(!CHK_AND || (mapped && (prot & K) == K && LAYOUT_CONFIGURED && (LAYOUT_RPERMS & K) == K));
           assert(!CHK_REVOKE || (LAYOUT_CONFIGURED && !revoked[(vpage < 2 -> vpage : 2)]));
           lb = vpage + LAYOUT_RDELTA;                          /* where the layout says it lands */
           for (i : 0 .. 3) { before[i] = odata[i] }
           if :: !cached -> pte[PI(P, vpage)] = PTE_VALID | perms | (oi << 4); pte_page[PI(P, vpage)] = bpage
              :: else -> skip fi;
           if
           :: K == W ->
              odata[oi * 2 + bpage] = 2;
              assert(!CHK_XLATE || (lb >= 0 && lb < 2));
              if :: lb >= 0 && lb < 2 -> before[LAYOUT_ROBJ * 2 + lb] = 2 :: else -> skip fi;
              for (i : 0 .. 3) { assert(!CHK_XLATE || before[i] == odata[i]) }
           :: else ->
              assert(!CHK_XLATE || odata[oi * 2 + bpage] == (lb >= 0 && lb < 2 -> before[LAYOUT_ROBJ * 2 + lb] : 0))
           fi
        :: else -> skip
        fi
     fi
  :: else -> skip
  fi
}

/* B1's mprotect(A, one page, PROT): no split is possible for the two pages the alphabet names. */
inline mprotect(A, PROT) {
  err = 0; mapped = 0; busy = 0;
  for (i : 0 .. 2) {
    if :: v_used[VI(1, i)] && v_lo[VI(1, i)] <= A && A < v_hi[VI(1, i)] ->
          mapped = 1; vi = VI(1, i);
          if :: !(v_attrs[vi] & MAYWRITE) -> busy = 1 :: else -> skip fi
       :: else -> skip fi
  }
  CHECK(!mapped, 12);                                           /* ENOMEM: not covered */
  CHECK((PROT & W) && busy, 13);                                /* EACCES: no VM_MAYWRITE */
  if
  :: err == 0 ->
     assert(v_lo[vi] == A && v_hi[vi] == A + 1);
     v_attrs[vi] = (v_attrs[vi] & ~7) | PROT
  :: else -> skip
  fi
}

/* B1's munmap(A, one page). */
inline munmap(A) {
  for (i : 0 .. 2) {
    if :: v_used[VI(1, i)] && v_lo[VI(1, i)] <= A && A < v_hi[VI(1, i)] ->
          assert(v_lo[VI(1, i)] == A && v_hi[VI(1, i)] == A + 1);
          CLEAR_VMA(VI(1, i))
       :: else -> skip fi
  }
}

/* B1's mmap(fd 0, 3 pages, PROT_READ, MAP_SHARED, offset 0): past the view's end (beyond-size=allow). */
inline mmap_past_end() {
  err = 0;
  CHECK(!fd0[1], 9);
  slot = (!v_used[VI(1, 0)] -> 0 : (!v_used[VI(1, 1)] -> 1 : (!v_used[VI(1, 2)] -> 2 : 3)));
  CHECK(slot == 3, 12);                                         /* ENOMEM */
  if
  :: err == 0 ->
     vi = VI(1, slot);
     v_used[vi] = 1; v_lo[vi] = next_page[1]; v_hi[vi] = next_page[1] + 3;
     v_delta[vi] = 0 - next_page[1]; v_attrs[vi] = R | MAYWRITE;
     next_page[1] = next_page[1] + 4                            /* one guard page */
  :: else -> skip
  fi
}

/* B1's fork: the child copies fds, mappings and placement, and starts with no cached translations. */
inline fork() {
  if
  :: !alive2 ->
     alive2 = 1; fd0[2] = fd0[1]; next_page[2] = next_page[1];
     for (i : 0 .. 2) {
       v_used[VI(2, i)] = v_used[VI(1, i)]; v_lo[VI(2, i)] = v_lo[VI(1, i)]; v_hi[VI(2, i)] = v_hi[VI(1, i)];
       v_delta[VI(2, i)] = v_delta[VI(1, i)]; v_attrs[VI(2, i)] = v_attrs[VI(1, i)]
     }
  :: else -> skip                                               /* EAGAIN */
  fi
}

#define RAM 0
#define OFILE 1
#define RW (R | W)

active proctype memview() {
  d_step {   /* the state after alphabet.py's set-up prefix */
    osize[0] = 2; osize[1] = 2; odata[1] = 7; odata[2] = 9;
    ctl = 1; vsize = 2;
    r_used[0] = 1; r_lo[0] = 0; r_hi[0] = 1; r_obj[0] = RAM; r_delta[0] = 1; r_perms[0] = RW;
    r_used[1] = 1; r_lo[1] = 1; r_hi[1] = 2; r_obj[1] = OFILE; r_delta[1] = -1; r_perms[1] = R;
    fd0[1] = 1;
    v_used[0] = 1; v_lo[0] = 0; v_hi[0] = 1; v_delta[0] = 0; v_attrs[0] = RW | MAYWRITE;
    v_used[1] = 1; v_lo[1] = 2; v_hi[1] = 3; v_delta[1] = -1; v_attrs[1] = R | MAYWRITE;
    next_page[1] = 4
  };
  do
  /* view_map_fd(fd 0, src, fd_offset, size, mem_offset, perms): src 1 is ram (rw), src 3 the file (ro) */
  :: STEP("map_fd(RAM,RW,0,1,0,R)", map_fd(RAM, RW, 0, 1, 0, R))
  :: STEP("map_fd(RAM,RW,0,1,0,RW)", map_fd(RAM, RW, 0, 1, 0, RW))
  :: STEP("map_fd(RAM,RW,0,1,0,RW|X)", map_fd(RAM, RW, 0, 1, 0, RW | X))
  :: STEP("map_fd(RAM,RW,0,1,1,R)", map_fd(RAM, RW, 0, 1, 1, R))
  :: STEP("map_fd(RAM,RW,0,1,1,RW)", map_fd(RAM, RW, 0, 1, 1, RW))
  :: STEP("map_fd(RAM,RW,0,1,1,RW|X)", map_fd(RAM, RW, 0, 1, 1, RW | X))
  :: STEP("map_fd(RAM,RW,1,1,0,R)", map_fd(RAM, RW, 1, 1, 0, R))
  :: STEP("map_fd(RAM,RW,1,1,0,RW)", map_fd(RAM, RW, 1, 1, 0, RW))
  :: STEP("map_fd(RAM,RW,1,1,0,RW|X)", map_fd(RAM, RW, 1, 1, 0, RW | X))
  :: STEP("map_fd(RAM,RW,1,1,1,R)", map_fd(RAM, RW, 1, 1, 1, R))
  :: STEP("map_fd(RAM,RW,1,1,1,RW)", map_fd(RAM, RW, 1, 1, 1, RW))
  :: STEP("map_fd(RAM,RW,1,1,1,RW|X)", map_fd(RAM, RW, 1, 1, 1, RW | X))
  :: STEP("map_fd(OFILE,R,0,1,0,R)", map_fd(OFILE, R, 0, 1, 0, R))
  :: STEP("map_fd(OFILE,R,0,1,0,RW)", map_fd(OFILE, R, 0, 1, 0, RW))
  :: STEP("map_fd(OFILE,R,0,1,1,R)", map_fd(OFILE, R, 0, 1, 1, R))
  :: STEP("map_fd(OFILE,R,0,1,1,RW)", map_fd(OFILE, R, 0, 1, 1, RW))
  :: STEP("map_fd(OFILE,R,1,1,0,R)", map_fd(OFILE, R, 1, 1, 0, R))
  :: STEP("map_fd(OFILE,R,1,1,0,RW)", map_fd(OFILE, R, 1, 1, 0, RW))
  :: STEP("map_fd(OFILE,R,1,1,1,R)", map_fd(OFILE, R, 1, 1, 1, R))
  :: STEP("map_fd(OFILE,R,1,1,1,RW)", map_fd(OFILE, R, 1, 1, 1, RW))
  :: STEP("map_fd(RAM,RW,0,1,0,0)", map_fd(RAM, RW, 0, 1, 0, 0))        /* no flags */
  :: STEP("map_fd(RAM,RW,0,1,1,W)", map_fd(RAM, RW, 0, 1, 1, W))        /* write without read */
  :: STEP("map_fd(RAM,RW,0,2,0,RW)", map_fd(RAM, RW, 0, 2, 0, RW))
  :: STEP("unmap_fd(0,1)", unmap_fd(0, 1))
  :: STEP("unmap_fd(1,1)", unmap_fd(1, 1))
  :: STEP("unmap_fd(0,2)", unmap_fd(0, 2))
  :: STEP("set_size(1)", set_size(1))
  :: STEP("set_size(2)", set_size(2))
  :: STEP("pwrite_ram()", pwrite_ram())
  :: STEP("ftruncate_ram(1)", ftruncate_ram(1))
  :: STEP("ftruncate_ram(2)", ftruncate_ram(2))
  :: STEP("seal_ram(SEAL_WRITE)", seal_ram(SEAL_WRITE))
  :: STEP("seal_ram(SEAL_SHRINK)", seal_ram(SEAL_SHRINK))
  :: STEP("close(A,0)", ctl = 0)        /* A closes fd 0: EBADF when already closed, else control_open = 0 */
  /* B1 at its rw page (0), its r page (2) and its third mapping's page (4); the child at 0 and 2 */
  :: STEP("access(1,0,R)", access(1, 0, R))
  :: STEP("access(1,0,W)", access(1, 0, W))
  :: STEP("access(1,0,X)", access(1, 0, X))
  :: STEP("access(1,2,R)", access(1, 2, R))
  :: STEP("access(1,2,W)", access(1, 2, W))
  :: STEP("access(1,2,X)", access(1, 2, X))
  :: STEP("access(1,4,R)", access(1, 4, R))
  :: STEP("access(1,4,W)", access(1, 4, W))
  :: STEP("access(1,4,X)", access(1, 4, X))
  :: STEP("access(2,0,R)", access(2, 0, R))
  :: STEP("access(2,0,W)", access(2, 0, W))
  :: STEP("access(2,0,X)", access(2, 0, X))
  :: STEP("access(2,2,R)", access(2, 2, R))
  :: STEP("access(2,2,W)", access(2, 2, W))
  :: STEP("access(2,2,X)", access(2, 2, X))
  :: STEP("mprotect(0,R)", mprotect(0, R))
  :: STEP("mprotect(0,RW|X)", mprotect(0, RW | X))
  :: STEP("mprotect(2,RW)", mprotect(2, RW))
  :: STEP("munmap(2)", munmap(2))
  :: STEP("mseal(0)", skip)             /* mseal: ENOMEM or EPERM (mseal=refuse) */
  :: STEP("mmap_private()", skip)       /* a private mmap: EBADF or EINVAL (private=einval) */
  :: STEP("mmap_ro_fd_rw()", skip)      /* a shared rw mmap of the ro view fd: EACCES */
  :: STEP("mmap_past_end()", mmap_past_end())
  :: STEP("fork()", fork())
  :: STEP("close(B1,0)", fd0[1] = 0)    /* B1 closes fd 0: EBADF when already closed */
  /* ioctl, UNMAP_FD, MAP_FD, pwrite, ftruncate, F_ADD_SEALS through B1's view fd: EBADF or an
     errno, never a change (the CAP property) */
  :: STEP("ioctl(B1,0)", skip)
  :: STEP("unmap_fd(B1,0)", skip)
  :: STEP("map_fd(B1,0)", skip)
  :: STEP("pwrite(B1,0)", skip)
  :: STEP("ftruncate(B1,0)", skip)
  :: STEP("seal(B1,0)", skip)
  od
}
