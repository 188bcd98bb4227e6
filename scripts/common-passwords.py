#!/usr/bin/env python3
"""Regenerates Sources/WardenAccess/Passwords/CommonPasswords+List.swift from Django's list.

    pip download --no-deps django==5.1.4 && python3 scripts/common-passwords.py Django-5.1.4-py3-none-any.whl

Keeps the entries of at least 8 characters (shorter ones fail the length rule anyway), drops the `$hex[…]`
entries, and writes them tab-separated, 20 to a line.
"""
import gzip
import sys
import zipfile

wheel = zipfile.ZipFile(sys.argv[1])
text = gzip.decompress(wheel.read("django/contrib/auth/common-passwords.txt.gz")).decode()
entries = [line for line in text.split("\n") if len(line) >= 8 and not line.startswith("$hex[")]
assert all("\t" not in entry and '"""#' not in entry for entry in entries)
lines = ["\t".join(entries[index:index + 20]) for index in range(0, len(entries), 20)]
with open("Sources/WardenAccess/Passwords/CommonPasswords+List.swift", "w") as output:
    output.write(
        "// The most common passwords of at least 8 characters from Django's list of 20,000 common passwords\n"
        "// (django/contrib/auth/common-passwords.txt.gz, Django 5.1.4; BSD-3-Clause, see NOTICE.md), which Django\n"
        "// credits to Royce Williams' compilation from breached-password corpora. Entries of the form `$hex[…]`\n"
        "// are omitted. Tab-separated, 20 to a line; regenerate with scripts/common-passwords.py.\n"
        "// NIST SP 800-63B §5.1.1.2 asks verifiers to refuse such passwords.\n"
        "extension CommonPasswords {\n"
        '    static let list = #"""\n' + "\n".join(lines) + '\n"""#\n'
        "}\n")
print(len(entries), "entries")
