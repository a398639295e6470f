#!/usr/bin/env python3
"""Sends raw Ethernet frames, one hex string per stdin line, out of IFACE (AF_PACKET): hostile-input tests.

Usage: ip netns exec NS send-frames.py IFACE < frames.hex   (prints how many were sent)
"""
import socket
import sys

iface = sys.argv[1]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
n = 0
for line in sys.stdin:
    line = line.strip()
    if line:
        s.send(bytes.fromhex(line))
        n += 1
print(n)
