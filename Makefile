# Everything memview needs is installed here, from PyPI, into .venv (pinned by constraints.txt).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup graphviz browser report-picture kernel-deps kernel-module kernel-conform run test lint typecheck unit clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@# Debian's python3 lacks ensurepip until python3-venv is installed; install it when we can.
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV) && command -v apt-get >/dev/null && \
		echo "make: installing Debian's python3-venv (python3 -m venv needs it)" && \
		apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); }
	PIP_CONSTRAINT=$(CURDIR)/constraints.txt $(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@# The linux backend's C helper (cffi); without a compiler this says so in one line and set-up goes on.
	-$(BIN)/python -m memview.backends.linux.build
	@# Graphviz renders `memview graph --format png|svg`; best effort, set-up goes on without it.
	-$(MAKE) --no-print-directory graphviz
	touch $@

# Graphviz's `dot` (for `memview graph` pictures): installed with apt-get when missing and we are
# root; otherwise say what to do. DOT and GraphML output need nothing.
graphviz:
	@if command -v dot >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "make: installing Debian's graphviz (memview graph --format png|svg runs dot)"; \
		apt-get update -qq && apt-get install -y -qq graphviz >/dev/null; \
	else \
		echo "make: graphviz is missing (memview graph --format png|svg needs dot): run 'sudo apt-get install graphviz' or 'sudo make graphviz'"; \
		exit 1; \
	fi

# Headless Chromium and ChromeDriver, Debian's (the report's browser test, `make report-picture`):
# installed with apt-get when missing and we are root; otherwise say what to do.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "make: installing Debian's chromium and chromium-driver (the report's browser test)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium chromium-driver >/dev/null; \
	else \
		echo "make: headless Chromium is missing: run 'sudo apt-get install chromium chromium-driver' or 'sudo make browser'"; \
		exit 1; \
	fi

# The README's picture (docs/report.md): the report of a design that forgets to revoke, and its
# counterexample's timeline as a PNG.
REPORT_PICTURE_DIR := .memview/report-no-revoke
report-picture: setup browser
	$(BIN)/memview report --design designs/no-revoke.toml --run check --engine explore --depth 3 \
		--out $(REPORT_PICTURE_DIR) || [ $$? -eq 1 ]
	$(BIN)/python -m memview.report.snapshot $(REPORT_PICTURE_DIR)/pictures/cx-and-explore.svg \
		docs/pictures/report-no-revoke.png

# The kvm backend (docs/kernel.md): QEMU, Debian's 6.1 kernel and its headers (for the module and
# the guest), and a static busybox (the guest's initramfs). INITRD=No stops the kernel package's
# hook from rebuilding the host's initrd, which nothing here boots and which costs half the install.
KERNEL_PACKAGES := qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static
kernel-deps:
	@if [ -x /usr/bin/qemu-system-x86_64 ] && [ -x /bin/busybox ] && ls -d /usr/src/linux-headers-6.1.*-amd64 >/dev/null 2>&1 \
		&& ls /boot/vmlinuz-6.1.*-amd64 >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "make: installing Debian's $(KERNEL_PACKAGES) (the kvm backend's guest and module)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive INITRD=No \
			apt-get install -y -qq --no-install-recommends $(KERNEL_PACKAGES) >/dev/null; \
	else \
		echo "make: the kvm backend needs Debian's $(KERNEL_PACKAGES): run 'sudo make kernel-deps'"; \
		exit 1; \
	fi

# The memory-view driver, built out of tree against Debian's 6.1 headers (not the running kernel's).
# Debian's 6.1 headers, found when the recipe runs (kernel-deps may have just installed them).
KERNEL_HEADERS = $$(ls -d /usr/src/linux-headers-6.1.*-amd64 | sort -V | tail -n 1)
kernel-module: kernel-deps
	$(MAKE) --no-print-directory -C $(KERNEL_HEADERS) M=$(CURDIR)/kernel modules

# The corpus on the real driver in a QEMU guest (docs/kernel.md): exit 1 while docs/findings.md's
# F1 and F2 stand (tests/test_kvm_backend.py pins exactly those two).
kernel-conform: setup kernel-module
	$(BIN)/memview conform --backend kvm --design kernel/seed-driver.toml --corpus

# The main job: check every property of the built-in seed design; then the same engine on today's
# practice (design fdpass: A hands B its raw fds), with each attack it finds replayed on real
# processes and memory (backend linux-fdpass). That second check must find violations (exit 1).
run: setup
	$(BIN)/memview check --design seed
	@echo; echo "Today's practice, which the seed was written against (design fdpass: A hands B its raw fds):"
	$(BIN)/memview check --design fdpass --engine bmc --replay linux-fdpass --out .memview/fdpass; \
	status=$$?; [ $$status -eq 1 ] || { echo "make run: the fdpass check should find violations (exit 1), it gave $$status"; exit 1; }

lint: setup
	$(BIN)/ruff check memview tests bench

typecheck: setup
	$(BIN)/mypy --strict memview

unit: setup
	$(BIN)/pytest -n 2 -q --durations=30

# Every test: lint, types, and the whole pytest suite (slow tests included).
test: lint typecheck unit

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
