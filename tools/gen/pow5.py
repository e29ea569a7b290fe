#!/usr/bin/env python3
"""Prints the 128-bit power-of-five table llmsplit.h uses for Eisel-Lemire
decimal-to-double conversion: for q in [-342, 308], the top 128 bits of 5^q
(truncated for q >= 0, rounded up for q < 0), as pairs of 64-bit words (hi, lo)."""
lines = []
for q in range(-342, 309):
    if q >= 0:
        v = 5 ** q
        while v < (1 << 127):
            v <<= 1
        while v >= (1 << 128):
            v >>= 1
    else:
        p = 5 ** -q
        z = p.bit_length()
        # 2^b / 5^-q with b large enough that the quotient has >= 128 bits
        b = z + 127 if q >= -27 else 2 * z + 128
        v = (1 << b) // p + 1
        while v >= (1 << 128):
            v >>= 1
    lines.append("0x%016xu,0x%016xu" % (v >> 64, v & ((1 << 64) - 1)))
out = []
for i in range(0, len(lines), 2):
    out.append("    " + ",".join(lines[i:i + 2]) + ",")
print("\n".join(out))
