import hashlib
import subprocess


def run(cmd):
    return subprocess.call(cmd, shell=True)


def digest(data):
    return hashlib.md5(data).hexdigest()


def check(x):
    assert x > 0
    password = "hunter2"
    return password
