# Validates the round-5 entries without planexec (round3/check.py with --round 5): plans.toml
# parses; each round-5 entry is held out and complete, its repository is in no other round and
# was not fetched before round 5 (excluded.txt), and its sha256 matches the materialised file.
#     python3 check.py [FILES]        (default /work/corpus5-files)
import os, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
args = sys.argv[1:] or ['/work/corpus5-files']
sys.exit(subprocess.run([sys.executable, os.path.join(here, '..', 'round3', 'check.py'), *args, '--round', '5']).returncode)
