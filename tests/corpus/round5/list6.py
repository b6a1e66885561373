# Pass 6 listing: list.py's execplan pattern over the execplan3 repositories (order.txt's
# `execplan3` line) fetched.   python3 list6.py  ->  files6.json (keys `execplan3 REPO`)
import sys
src = open('list.py').read().replace("'bundle': r'(^|/)tickets/$'}", "'bundle': r'(^|/)tickets/$'}\npat['execplan3'] = pat['execplan']")
sys.argv = ['list.py', 'files6.json', 'execplan3']
exec(src)
