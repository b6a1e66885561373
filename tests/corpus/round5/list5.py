# Pass 5 listing (reading left one usable ticket folder): list.py's bundle pattern over the
# repositories fetched so far, the seeded order continued.   python3 list5.py  ->  files5.json
import sys
sys.argv = ['list.py', 'files5.json', 'bundle']
exec(open('list.py').read())
