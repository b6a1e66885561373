# Pass 4 listing: list.py's execplan pattern over the execplan2 repositories (order.txt's
# `execplan2` line) fetched.   python3 list4.py  ->  files4.json (keys `execplan2 REPO`)
import sys
src = open('list.py').read().replace("pat = {'kiro'", "pat = {'execplan2': None, 'kiro'")
src = src.replace("'bundle': r'(^|/)tickets/$'}", "'bundle': r'(^|/)tickets/$'}\npat['execplan2'] = pat['execplan']")
sys.argv = ['list.py', 'files4.json', 'execplan2']
exec(src)
