/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The memory view: process A builds a view out of ranges of its own file descriptors, with
 * per-range permissions, and hands process B a view fd that B can only mmap or close.
 * (linux-mm, "Re: [RFC PATCH 0/5] madvise MADV_DOEXEC", 2020-07-31; memview's `seed` design.)
 *
 *   int ctl = open("/dev/memory-view", O_RDWR);            a new view and its control fd
 *   ioctl(ctl, MEMVIEW_SET_SIZE, &size);                    the seed's ftruncate: a character
 *                                                           device cannot be truncated
 *   ioctl(ctl, MEMVIEW_MAP_FD, &(struct memview_map_fd_info){...});
 *   ioctl(ctl, MEMVIEW_UNMAP_FD, &(struct memview_unmap_fd_info){...});
 *   int view = ioctl(ctl, MEMVIEW_GET_VIEWFD, O_RDWR);      O_RDONLY or O_RDWR (| O_CLOEXEC)
 *
 * The view fd answers every ioctl with ENOTTY and accepts only mmap(MAP_SHARED) and close.
 */
#ifndef _UAPI_LINUX_MEMORY_VIEW_H
#define _UAPI_LINUX_MEMORY_VIEW_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Range permissions (flags of MEMVIEW_MAP_FD); the same bits as PROT_READ/WRITE/EXEC. */
#define MEMVIEW_MAP_READ	0x1
#define MEMVIEW_MAP_WRITE	0x2
#define MEMVIEW_MAP_EXEC	0x4

struct memview_map_fd_info {
	__s32 fd;		/* the backing fd: a memfd or a regular file */
	__u32 flags;		/* MEMVIEW_MAP_*; 0 means read+write (the seed's guest-ram example) */
	__u64 fd_offset;	/* byte offset in the backing file, page-aligned */
	__u64 size;		/* bytes, page-aligned, > 0 */
	__u64 mem_offset;	/* byte offset in the view, page-aligned */
};

struct memview_unmap_fd_info {
	__u64 mem_offset;
	__u64 size;
};

#define MEMVIEW_IOCTL_BASE	0xB7
#define MEMVIEW_SET_SIZE	_IOW(MEMVIEW_IOCTL_BASE, 0, __u64)
#define MEMVIEW_MAP_FD		_IOW(MEMVIEW_IOCTL_BASE, 1, struct memview_map_fd_info)
#define MEMVIEW_UNMAP_FD	_IOW(MEMVIEW_IOCTL_BASE, 2, struct memview_unmap_fd_info)
#define MEMVIEW_GET_VIEWFD	_IO(MEMVIEW_IOCTL_BASE, 3)

#endif /* _UAPI_LINUX_MEMORY_VIEW_H */
