#!/usr/bin/env python3
"""Syntax check of PowerShell scripts without PowerShell: parses each file
with the tree-sitter PowerShell grammar and reports every error or missing
node. Needs: pip install tree-sitter tree-sitter-powershell.

    python3 installer/windows/check-ps1.py installer/install.ps1

Exit status 0 when every file parses, 1 otherwise. This catches syntax
errors only; it does not run the script or resolve cmdlets.
"""
import sys

import tree_sitter
import tree_sitter_powershell


def errors(parser, path):
    with open(path, "rb") as f:
        src = f.read()
    found = []
    stack = [parser.parse(src).root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            kind = "missing token" if node.is_missing else "syntax error"
            line, col = node.start_point
            found.append(f"{path}:{line + 1}:{col + 1}: {kind}")
        stack.extend(node.children)
    return sorted(found)


def main(paths):
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    bad = [e for p in paths for e in errors(parser, p)]
    for e in bad:
        print(e)
    if not bad:
        print(f"{len(paths)} file(s) parse")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
