# Validates the round-4 entries without planexec (round3/check.py with --round 4): plans.toml
# parses; each round-4 entry is held out and complete, its repository is in no other round and
# was not fetched before round 4 (excluded.txt), and its sha256 matches the materialised file.
#     python3 check.py [FILES]        (default /work/corpus-files)
import os, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
sys.exit(subprocess.run([sys.executable, os.path.join(here, '..', 'round3', 'check.py'), *sys.argv[1:], '--round', '4']).returncode)
