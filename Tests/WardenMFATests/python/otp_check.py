"""Interop with pyotp, an independent implementation Warden's tests trust.

  otp_check.py code <otpauth-uri> <unix-time>          prints pyotp's code for the URI at that time
  otp_check.py verify <otpauth-uri> <unix-time> <code>  exits 0 if pyotp accepts the code (window 0)
  otp_check.py make <unix-time>                         prints a random pyotp secret's URI, then its code
"""
import sys

import pyotp


def main() -> int:
    command = sys.argv[1]
    if command == "code":
        print(pyotp.parse_uri(sys.argv[2]).at(int(sys.argv[3])))
        return 0
    if command == "verify":
        totp = pyotp.parse_uri(sys.argv[2])
        return 0 if totp.verify(sys.argv[4], for_time=int(sys.argv[3]), valid_window=0) else 1
    if command == "make":
        totp = pyotp.TOTP(pyotp.random_base32(32), issuer="pyotp")
        print(totp.provisioning_uri(name="someone@example.com"))
        print(totp.at(int(sys.argv[2])))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
