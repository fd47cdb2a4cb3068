// SPDX-License-Identifier: GPL-2.0
/*
 * memory_view: a prototype of the 2020 linux-mm "memory view" driver, memview's `seed` design
 * (docs/semantics.md; docs/kernel.md explains this file).
 *
 * Process A opens /dev/memory-view (a view and its control fd), sizes it (MEMVIEW_SET_SIZE),
 * fills it with ranges of its own memfds and files (MEMVIEW_MAP_FD) and takes them away again
 * (MEMVIEW_UNMAP_FD). MEMVIEW_GET_VIEWFD gives a view fd that B can only mmap (shared) or close.
 *
 * The mechanism: every view owns an address_space, and every view fd points its f_mapping at it,
 * so every vma of the view, in every process and every forked child, sits in that i_mmap tree.
 * B's faults are resolved from the current layout under the layout's read lock, by inserting
 * the backing object's own page (vm_insert_page); PTEs start write-protected because the vma has
 * a page_mkwrite handler, so the first write to a page is checked against the range's write
 * permission at that moment. Anything that takes pages away (UNMAP_FD, a shrink) changes the
 * layout and zaps the pages with unmap_mapping_range() under the layout's write lock: the ioctl
 * returns after no process can reach them any more, and the next touch faults on the new layout.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/magic.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/memfd.h>

#include "uapi/memory_view.h"

#define MEMVIEW_MAP_ALL (MEMVIEW_MAP_READ | MEMVIEW_MAP_WRITE | MEMVIEW_MAP_EXEC)
/* loff_t's limit: a backing range must end below it, as a file offset must. */
#define MEMVIEW_OFFSET_LIMIT (1ULL << 63)

/*
 * The ranges one view may hold (ENOSPC past it; ENOMEM when an UNMAP_FD would split a range past
 * it). Writable, so that a test harness can hold the driver to a model's bound.
 */
static unsigned int max_ranges = 64;
module_param(max_ranges, uint, 0644);
MODULE_PARM_DESC(max_ranges, "MAP_FD ranges per view (ENOSPC beyond)");

struct mv_range {
	struct list_head node;
	u64 lo, hi;		/* view bytes [lo, hi) */
	u64 fd_offset;		/* the backing byte that view byte lo shows */
	u32 perms;		/* MEMVIEW_MAP_* */
	struct file *file;	/* the backing file: the range outlives A's fd */
	bool holds_writable;	/* counted in the file's i_mmap_writable (F_SEAL_WRITE sees it) */
};

struct mv_view {
	refcount_t refs;		/* the control file and every view file */
	struct rw_semaphore layout;	/* faults read it; A's ioctls write it */
	u64 size;
	struct list_head ranges;	/* sorted by lo, never overlapping */
	unsigned int nranges;
	struct address_space mapping;	/* every vma of the view, for unmap_mapping_range */
	struct inode *host;		/* the device inode, only so that mapping->host is a real inode */
};

static const struct file_operations mv_view_fops;

static struct mv_view *mv_view_alloc(struct inode *host)
{
	struct mv_view *view = kzalloc(sizeof(*view), GFP_KERNEL);

	if (!view)
		return NULL;
	refcount_set(&view->refs, 1);
	init_rwsem(&view->layout);
	INIT_LIST_HEAD(&view->ranges);
	address_space_init_once(&view->mapping);
	view->host = igrab(host);
	view->mapping.host = view->host;
	return view;
}

static void mv_range_free(struct mv_range *range)
{
	if (range->holds_writable)
		mapping_unmap_writable(range->file->f_mapping);
	fput(range->file);
	kfree(range);
}

static void mv_view_put(struct mv_view *view)
{
	struct mv_range *range, *next;

	if (!refcount_dec_and_test(&view->refs))
		return;
	list_for_each_entry_safe(range, next, &view->ranges, node)
		mv_range_free(range);
	iput(view->host);
	kfree(view);
}

/* A copy of part of `range` (for the pieces a cut leaves), holding its own references. */
static struct mv_range *mv_range_piece(const struct mv_range *range, u64 lo, u64 hi)
{
	struct mv_range *piece = kmalloc(sizeof(*piece), GFP_KERNEL);

	if (!piece)
		return NULL;
	*piece = *range;
	piece->lo = lo;
	piece->hi = hi;
	piece->fd_offset = range->fd_offset + (lo - range->lo);
	get_file(piece->file);
	if (piece->holds_writable && mapping_map_writable(piece->file->f_mapping))
		piece->holds_writable = false;
	return piece;
}

/* How many ranges cutting [lo, hi) out of the layout would add (a range straddling both ends). */
static unsigned int mv_splits(struct mv_view *view, u64 lo, u64 hi)
{
	struct mv_range *range;
	unsigned int splits = 0;

	list_for_each_entry(range, &view->ranges, node)
		if (range->lo < lo && hi < range->hi)
			splits++;
	return splits;
}

/* Cut [lo, hi) out of every range; the caller holds the layout for writing and checked the slots. */
static int mv_cut(struct mv_view *view, u64 lo, u64 hi)
{
	struct mv_range *range, *next, *right;

	list_for_each_entry_safe(range, next, &view->ranges, node) {
		if (range->hi <= lo || hi <= range->lo)
			continue;
		if (range->lo < lo && hi < range->hi) {
			right = mv_range_piece(range, hi, range->hi);
			if (!right)
				return -ENOMEM;
			list_add(&right->node, &range->node);
			view->nranges++;
			range->hi = lo;
			continue;
		}
		if (range->lo < lo) {
			range->hi = lo;
		} else if (hi < range->hi) {
			range->fd_offset += hi - range->lo;
			range->lo = hi;
		} else {
			list_del(&range->node);
			view->nranges--;
			mv_range_free(range);
		}
	}
	return 0;
}

/* Take view bytes [lo, end of view) or [lo, lo + len) away from every process, children included. */
static void mv_revoke(struct mv_view *view, u64 lo, u64 len)
{
	/* even_cows: a private copy would be a stale page too (the seed has no private mappings). */
	unmap_mapping_range(&view->mapping, lo, len, 1);
}

static long mv_set_size(struct mv_view *view, u64 __user *arg)
{
	u64 size;

	if (copy_from_user(&size, arg, sizeof(size)))
		return -EFAULT;
	if (size & ~PAGE_MASK || size >= MEMVIEW_OFFSET_LIMIT)
		return -EINVAL;
	down_write(&view->layout);
	mv_cut(view, size, U64_MAX);	/* never splits: the part above the new end is dropped */
	if (size < view->size)
		mv_revoke(view, size, 0);
	view->size = size;
	up_write(&view->layout);
	return 0;
}

static bool mv_is_shmem(struct file *file)
{
	return file->f_mapping->a_ops == &shmem_aops;
}

static long mv_map_fd(struct mv_view *view, struct memview_map_fd_info __user *arg)
{
	struct memview_map_fd_info info;
	struct mv_range *range, *pos;
	struct file *file;
	u32 perms;
	u64 end;
	long err;

	if (copy_from_user(&info, arg, sizeof(info)))
		return -EFAULT;
	perms = info.flags;
	if (perms & ~MEMVIEW_MAP_ALL)
		return -EINVAL;
	if (!perms)	/* seed: guest-ram, mapped without .flags, is "read+write" */
		perms = MEMVIEW_MAP_READ | MEMVIEW_MAP_WRITE;
	if ((perms & MEMVIEW_MAP_WRITE) && !(perms & MEMVIEW_MAP_READ))
		return -EINVAL;
	if (!info.size || (info.mem_offset | info.size) & ~PAGE_MASK)
		return -EINVAL;
	if (check_add_overflow(info.mem_offset, info.size, &end))
		return -EINVAL;
	if (info.fd_offset & ~PAGE_MASK || info.fd_offset + info.size < info.fd_offset ||
	    info.fd_offset + info.size >= MEMVIEW_OFFSET_LIMIT)
		return -EINVAL;

	down_write(&view->layout);
	err = -EINVAL;
	if (end > view->size)
		goto unlock;
	file = fget(info.fd);
	err = -EBADF;
	if (!file)
		goto unlock;
	err = -EINVAL;	/* a view cannot contain a view, nor the device */
	if (!S_ISREG(file_inode(file)->i_mode))
		goto put;
	if (perms & MEMVIEW_MAP_WRITE) {
		err = -EACCES;	/* as mmap(MAP_SHARED, PROT_WRITE) of an fd not open for writing */
		if (!(file->f_mode & FMODE_WRITE))
			goto put;
		err = -EPERM;	/* as a new shared writable mapping of a write-sealed memfd */
		if (mv_is_shmem(file) &&
		    SHMEM_I(file_inode(file))->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
			goto put;
	}
	err = -EEXIST;	/* vfio-user DMA_MAP: a map over an existing region fails with EEXIST */
	list_for_each_entry(pos, &view->ranges, node)
		if (pos->lo < end && info.mem_offset < pos->hi)
			goto put;
	err = -ENOSPC;
	if (view->nranges >= max_ranges)
		goto put;
	err = -ENOMEM;
	range = kzalloc(sizeof(*range), GFP_KERNEL);
	if (!range)
		goto put;
	range->lo = info.mem_offset;
	range->hi = end;
	range->fd_offset = info.fd_offset;
	range->perms = perms;
	range->file = file;	/* the reference fget took */
	/*
	 * A writable range is a writable shared mapping of the object whether or not B mapped it yet,
	 * so the memfd's F_SEAL_WRITE answers EBUSY while it exists (seed: seal-write = ebusy).
	 */
	if (perms & MEMVIEW_MAP_WRITE && !mapping_map_writable(file->f_mapping))
		range->holds_writable = true;
	list_for_each_entry(pos, &view->ranges, node)
		if (pos->lo > range->lo)
			break;
	list_add_tail(&range->node, &pos->node);
	view->nranges++;
	up_write(&view->layout);
	return 0;
put:
	fput(file);
unlock:
	up_write(&view->layout);
	return err;
}

static long mv_unmap_fd(struct mv_view *view, struct memview_unmap_fd_info __user *arg)
{
	struct memview_unmap_fd_info info;
	u64 end;
	long err = 0;

	if (copy_from_user(&info, arg, sizeof(info)))
		return -EFAULT;
	if (!info.size || (info.mem_offset | info.size) & ~PAGE_MASK)
		return -EINVAL;
	if (check_add_overflow(info.mem_offset, info.size, &end))
		return -EINVAL;
	down_write(&view->layout);
	if (end > view->size) {
		err = -EINVAL;
	} else if (view->nranges + mv_splits(view, info.mem_offset, end) > max_ranges) {
		err = -ENOMEM;	/* as munmap when a split would pass max_map_count */
	} else {
		err = mv_cut(view, info.mem_offset, end);
		/* Revoked even where it was a hole (docs/semantics.md §2.4), before the ioctl returns. */
		mv_revoke(view, info.mem_offset, info.size);
	}
	up_write(&view->layout);
	return err;
}

static long mv_get_viewfd(struct mv_view *view, unsigned long flags)
{
	struct file *file;
	int fd;

	if (flags & ~(O_ACCMODE | O_CLOEXEC))
		return -EINVAL;
	if ((flags & O_ACCMODE) != O_RDONLY && (flags & O_ACCMODE) != O_RDWR)
		return -EINVAL;
	fd = get_unused_fd_flags(flags & O_CLOEXEC);
	if (fd < 0)
		return fd;
	file = anon_inode_getfile("[memory-view]", &mv_view_fops, view, flags & O_ACCMODE);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	refcount_inc(&view->refs);
	/*
	 * Positional I/O is refused as on the control device (a character device): pwrite is EBADF
	 * without FMODE_WRITE, then EINVAL (no write method), not an anon inode's ESPIPE.
	 */
	file->f_mode |= FMODE_PREAD | FMODE_PWRITE;
	/* Every vma of this file lands in the view's own i_mmap tree: revocation finds them all. */
	file->f_mapping = &view->mapping;
	fd_install(fd, file);
	return fd;
}

static long mv_control_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct mv_view *view = file->private_data;

	switch (cmd) {
	case MEMVIEW_SET_SIZE:
		return mv_set_size(view, (u64 __user *)arg);
	case MEMVIEW_MAP_FD:
		return mv_map_fd(view, (struct memview_map_fd_info __user *)arg);
	case MEMVIEW_UNMAP_FD:
		return mv_unmap_fd(view, (struct memview_unmap_fd_info __user *)arg);
	case MEMVIEW_GET_VIEWFD:
		return mv_get_viewfd(view, arg);
	}
	return -ENOTTY;
}

static int mv_control_open(struct inode *inode, struct file *file)
{
	struct mv_view *view = mv_view_alloc(inode);

	if (!view)
		return -ENOMEM;
	file->private_data = view;
	return 0;
}

/* seed: control-close = keep. The layout stays in force for every mapping; nobody can change it. */
static int mv_control_release(struct inode *inode, struct file *file)
{
	mv_view_put(file->private_data);
	return 0;
}

static const struct file_operations mv_control_fops = {
	.owner = THIS_MODULE,
	.open = mv_control_open,
	.release = mv_control_release,
	.unlocked_ioctl = mv_control_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice mv_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "memory-view",
	.fops = &mv_control_fops,
	.mode = 0666,
};

/* ---- the view fd: mmap and close only ---- */

/* The range covering view byte `off`; the caller holds the layout. */
static struct mv_range *mv_lookup(struct mv_view *view, u64 off)
{
	struct mv_range *range;

	list_for_each_entry(range, &view->ranges, node)
		if (range->lo <= off && off < range->hi)
			return range;
	return NULL;
}

/*
 * The seed's fault rule (docs/semantics.md §3.2, checks 3-6) for an access of `kind` at view byte
 * `off`: 0 and the range when it may go on, else the fault to raise.
 */
static vm_fault_t mv_check(struct mv_view *view, u64 off, u32 kind, struct mv_range **found)
{
	struct mv_range *range;
	u64 backing;

	if (off >= view->size)
		return VM_FAULT_SIGBUS;	/* past the view's size, as filemap past EOF */
	range = mv_lookup(view, off);
	if (!range)
		return VM_FAULT_SIGBUS;	/* seed: unconfigured = sigbus */
	if (kind & ~range->perms)
		return VM_FAULT_SIGSEGV;	/* A's permission refuses it (see docs/kernel.md: si_code) */
	backing = range->fd_offset + (off - range->lo);
	if (backing >= i_size_read(file_inode(range->file)))
		return VM_FAULT_SIGBUS;	/* the backing page lies past the object's end */
	*found = range;
	return 0;
}

static u32 mv_fault_kind(const struct vm_fault *vmf)
{
	if (vmf->flags & FAULT_FLAG_WRITE)
		return MEMVIEW_MAP_WRITE;
	/*
	 * x86 lets a fetch from a page that is not present through as a read when the vma is not
	 * executable (access_error() tests VM_EXEC only for a present page). Resolve it as the read
	 * it is, so the retried fetch meets the architecture's own SEGV_ACCERR, as B's prot requires.
	 */
	if (vmf->flags & FAULT_FLAG_INSTRUCTION && vmf->vma->vm_flags & VM_EXEC)
		return MEMVIEW_MAP_EXEC;
	return MEMVIEW_MAP_READ;
}

static vm_fault_t mv_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mv_view *view = vma->vm_file->private_data;
	u64 off = (u64)vmf->pgoff << PAGE_SHIFT;
	struct mv_range *range = NULL;
	struct address_space *backing;
	struct page *page;
	pgoff_t index;
	vm_fault_t ret;
	int err;

	down_read(&view->layout);
	ret = mv_check(view, off, mv_fault_kind(vmf), &range);
	if (ret)
		goto unlock;
	backing = range->file->f_mapping;
	index = (range->fd_offset + (off - range->lo)) >> PAGE_SHIFT;
	if (mv_is_shmem(range->file))
		page = shmem_read_mapping_page_gfp(backing, index, mapping_gfp_mask(backing));
	else
		page = read_mapping_page(backing, index, range->file);
	if (IS_ERR(page)) {
		ret = PTR_ERR(page) == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
		goto unlock;
	}
	/*
	 * Inserted with the vma's own protection, write-protected when the vma may write (it has a
	 * page_mkwrite handler), so a write comes back to mv_page_mkwrite to be checked.
	 */
	err = vm_insert_page(vma, vmf->address & PAGE_MASK, page);
	put_page(page);
	if (err == -ENOMEM)
		ret = VM_FAULT_OOM;
	else if (err && err != -EBUSY)	/* EBUSY: another thread inserted it first */
		ret = VM_FAULT_SIGBUS;
	else
		ret = VM_FAULT_NOPAGE;
unlock:
	up_read(&view->layout);
	return ret;
}

static vm_fault_t mv_page_mkwrite(struct vm_fault *vmf)
{
	struct mv_view *view = vmf->vma->vm_file->private_data;
	u64 off = (u64)vmf->pgoff << PAGE_SHIFT;
	struct mv_range *range = NULL;
	struct page *page = vmf->page;
	vm_fault_t ret;

	down_read(&view->layout);
	ret = mv_check(view, off, MEMVIEW_MAP_WRITE, &range);
	if (!ret) {
		lock_page(page);
		if (page->mapping == range->file->f_mapping) {
			ret = VM_FAULT_LOCKED;
		} else {
			/*
			 * The backing object dropped this page (truncation, hole punch) while this PTE
			 * still maps it: drop our PTE and fault again on the layout (docs/findings.md).
			 */
			unlock_page(page);
			mv_revoke(view, off, PAGE_SIZE);
			ret = VM_FAULT_NOPAGE;
		}
	}
	up_read(&view->layout);
	return ret;
}

static const struct vm_operations_struct mv_vm_ops = {
	.fault = mv_fault,
	.page_mkwrite = mv_page_mkwrite,
};

static int mv_view_mmap(struct file *file, struct vm_area_struct *vma)
{
	/*
	 * seed: private = einval. VM_MAYSHARE, not VM_SHARED: the kernel clears VM_SHARED from a
	 * MAP_SHARED mapping of a read-only fd, which is still a shared mapping.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	/* The model's file-range limit (MAX_LFS_FILESIZE); a character device would allow ULONG_MAX. */
	if (((u64)vma->vm_pgoff << PAGE_SHIFT) + (vma->vm_end - vma->vm_start) >= MEMVIEW_OFFSET_LIMIT)
		return -EOVERFLOW;
	vma->vm_flags |= VM_MIXEDMAP | VM_DONTEXPAND;
	vma->vm_ops = &mv_vm_ops;
	return 0;
}

static int mv_view_release(struct inode *inode, struct file *file)
{
	mv_view_put(file->private_data);
	return 0;
}

/* seed: "The view file descriptor does not allow ioctls." */
static long mv_view_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return -ENOTTY;
}

static const struct file_operations mv_view_fops = {
	.owner = THIS_MODULE,
	.mmap = mv_view_mmap,
	.release = mv_view_release,
	.unlocked_ioctl = mv_view_ioctl,
	.compat_ioctl = mv_view_ioctl,
	.llseek = noop_llseek,
};

static int __init mv_init(void)
{
	return misc_register(&mv_misc);
}

static void __exit mv_exit(void)
{
	misc_deregister(&mv_misc);
}

module_init(mv_init);
module_exit(mv_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("memory view: ranges of A's fds, mapped by B, revocable (a prototype)");
