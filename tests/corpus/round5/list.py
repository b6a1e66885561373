# Candidate files per fetched repository, by path pattern only (round 4's list.py, unchanged
# patterns): newest commit that has a matching file; files of 1,200 bytes and more; templates etc.
# skipped.
#     python3 list.py OUT.json [KIND ...]   (only repositories fetched, in order.txt order)
import subprocess, re, json, os, sys
pat = {'kiro': r'(^|/)\.kiro/specs/[^/]+/tasks\.md$',
       'taskmaster': r'(^|/)(\.taskmaster/)?tasks/tasks\.json$',
       'speckit': r'(^|/)specs/[^/]+/tasks\.md$',
       'execplan': r'(^|/)(\.agents?/(plans|exec-?plans?)/.*\.md|[^/]*exec-?plans?/.*\.md|\.agents?/[^/]*(?i:execplan)[^/]*\.md|(docs/)?plans/[^/]+\.md)$',
       'noid': r'(^|/)(IMPLEMENTATION_PLAN|PLAN|TODO|ROADMAP)\.md$',
       'tid': r'(^|/)docs/(superpowers/)?plans/[^/]+\.md$',
       'bundle': r'(^|/)tickets/$'}
skip = re.compile(r'(?i)(template|rules|commands|skills|readme|PLANS\.md$)')
kinds = sys.argv[2:] or list(pat)
res = {}
for line in open('order.txt'):
    k, *repos = line.split()
    if k not in kinds:
        continue
    for r in repos:
        gd = f'/work/.mirror/{r.replace("/", "+", 1)}/repo'
        if os.path.isdir(gd + '/.git'):
            gd += '/.git'
        if not os.path.isdir(gd):
            continue
        commits = subprocess.run(['git', '--git-dir', gd, 'log', '--all', '--format=%H', '-n', '400'],
                                 capture_output=True, text=True).stdout.split()
        out, head = '', None
        for head in commits:
            out = subprocess.run(['git', '--git-dir', gd, 'ls-tree', '-r', '-l', head],
                                 capture_output=True, text=True).stdout
            if k == 'bundle':
                ok = re.search(r'(^|/|\t)tickets/', out, re.M) is not None
            else:
                ok = any(re.search(pat[k], l.split('\t', 1)[1]) for l in out.splitlines())
            if ok:
                break
        c, dirs = [], set()
        for l in out.splitlines():
            meta, path = l.split('\t', 1)
            size = meta.split()[3]
            if k == 'bundle':
                m = re.search(r'(^|.*/)tickets/', path)
                if m:
                    dirs.add(m.group(0).rstrip('/'))
                continue
            if re.search(pat[k], path) and not skip.search(path.split('/')[-1]) and size != '-' and int(size) >= 1200:
                c.append(path)
        if k == 'bundle':
            c = sorted(dirs)
        res[f'{k} {r}'] = (head, sorted(c))
json.dump(res, open(sys.argv[1], 'w'), indent=0)
for key, (head, c) in sorted(res.items()):
    print(key, (head or '')[:12], len(c))
