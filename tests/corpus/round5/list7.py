# Pass 7 listing (one Taskmaster file dropped after reading): list.py's taskmaster pattern over
# the repositories fetched so far, the seeded order continued.   python3 list7.py -> files7.json
import sys
sys.argv = ['list.py', 'files7.json', 'taskmaster']
exec(open('list.py').read())
