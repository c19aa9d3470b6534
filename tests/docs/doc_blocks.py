#!/usr/bin/env python3
"""Takes the commands out of the docs for doc_check.sh.

usage: doc_blocks.py OUTDIR FILE...
  OUTDIR/blocks/NNN.sh       each ```sh block, as written; OUTDIR/blocks.txt: "NNN FILE:LINE FIRST-LINE"
  OUTDIR/transcripts/NNN.cmd and .out   each untagged block that starts with "$ ": the command and
                             the output the docs show; OUTDIR/transcripts.txt as blocks.txt
  OUTDIR/inline.txt          each `shackd ...` code span in the prose: "FILE:LINE<TAB>SPAN"
  OUTDIR/snippets.txt        each inline `mqtt: {...}` config snippet: "FILE:LINE<TAB>SPAN"
"""
import os
import re
import sys


def main():
    out, files = sys.argv[1], sys.argv[2:]
    os.makedirs(f"{out}/blocks", exist_ok=True)
    os.makedirs(f"{out}/transcripts", exist_ok=True)
    blocks, transcripts, inline, snippets = [], [], [], []
    n = 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        i = 0
        while i < len(lines):
            m = re.match(r"^( *)```(\w*)\s*$", lines[i])
            if not m:
                # Code spans in prose: a command line, or a config snippet an owner copies.
                for span in re.findall(r"`((?:sudo )?shackd [^`]+)`", lines[i]):
                    inline.append(f"{path}:{i + 1}\t{span}")
                for span in re.findall(r"`(mqtt: \{[^`]+)`", lines[i]):
                    snippets.append(f"{path}:{i + 1}\t{span}")
                # A span may break across two lines of the markdown source.
                if i + 1 < len(lines):
                    joined = lines[i] + " " + lines[i + 1]
                    for span in re.findall(r"`(mqtt: \{[^`]+)`", joined):
                        if f"{path}:{i + 1}\t{span}" not in snippets and span not in lines[i + 1]:
                            snippets.append(f"{path}:{i + 1}\t{span}")
                i += 1
                continue
            indent, lang, start = len(m.group(1)), m.group(2), i + 1
            j = start
            while j < len(lines) and not lines[j].lstrip().startswith("```"):
                j += 1
            body = [line[indent:] for line in lines[start:j]]  # a block inside a list item
            i = j + 1
            n += 1
            name = f"{n:03d}"
            if lang == "sh":
                with open(f"{out}/blocks/{name}.sh", "w", encoding="utf-8") as f:
                    f.write("\n".join(body) + "\n")
                blocks.append(f"{name} {path}:{start} {body[0] if body else ''}")
            elif lang == "" and body and body[0].startswith("$ "):
                with open(f"{out}/transcripts/{name}.cmd", "w", encoding="utf-8") as f:
                    f.write(body[0][2:] + "\n")
                with open(f"{out}/transcripts/{name}.out", "w", encoding="utf-8") as f:
                    f.write("\n".join(body[1:]) + "\n")
                transcripts.append(f"{name} {path}:{start} {body[0]}")
    for fname, rows in (("blocks.txt", blocks), ("transcripts.txt", transcripts), ("inline.txt", inline),
                        ("snippets.txt", snippets)):
        with open(f"{out}/{fname}", "w", encoding="utf-8") as f:
            f.write("".join(r + "\n" for r in rows))


if __name__ == "__main__":
    main()
