"""`python -m memview.cli`, as tests and docs run the command line."""

from memview.cli import main

# Guarded: multiprocessing's spawned workers import this module again as __mp_main__.
if __name__ == "__main__":
    main()
