"""Runs the README's marked shell examples in order and compares the answers it documents.

    python3 tests/readme.py README.md BASE_URL WORKDIR     (tests/readme.sh starts the server)

The convention, in README.md:

- A fenced block is run when the line just before its opening fence is `<!-- readme-test -->`
  (its language tag is `sh`); every other block is documentation only. Marked blocks run in
  the order they appear, as one bash session (`set -euo pipefail`; variables such as $TOKEN
  and $ID carry from one block to the next), in WORKDIR, against the server at BASE_URL.
- In the commands, `http://127.0.0.1:8080` becomes BASE_URL, `cargo run --release [-q] --`
  the debug binary ($bin, which tests/server.sh builds), and a path starting `tests/` the
  repository's. The line that starts the server (`cargo run --release -- serve --demo`) is
  not run again: tests/readme.sh has started the server with the same arguments and this
  script checks that they are the ones the README gives ($README_SERVE_ARGS).
- A step is a run of command lines; the `# ` comment lines right after it are the answer it
  documents, compared with what the step printed:
    `# HTTP/1.1 201 Created`        the status line (with `curl -i`),
    `# location: /v1/incidents/202` a header (name in any case; value as below),
    `# {"a": 1, ...}`               JSON, compared as a subset: every key shown must be there
                                    with the value shown; `...` or `…` stand for what is left
                                    out (elements of lists and objects, or part of a string);
                                    a list's elements shown must each be in the answer; a
                                    timestamp shown stands for any timestamp.
  Lines that are neither (a header's `# ...`) are ignored. A step with no documented answer
  must still exit 0.

Prints one line per checked answer and `N passed, N failed` at the end; exits 1 on a failure.
"""

import json
import os
import re
import subprocess
import sys

MARK = "<!-- readme-test -->"
DOC_BASE = "http://127.0.0.1:8080"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
ELISION = re.compile(r"\.\.\.|…")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def marked_blocks(text):
    lines = text.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if line.strip() == MARK:
            fence = lines[i + 1]
            if not fence.startswith("```sh"):
                sys.exit(f"README line {i + 2}: {MARK} must stand right before a ```sh fence")
            body = []
            for j in range(i + 2, len(lines)):
                if lines[j].startswith("```"):
                    break
                body.append(lines[j])
            blocks.append((i + 3, body))
    return blocks


def steps(blocks):
    """(first line number, command lines, documented answer lines) for every step."""
    found = []
    for first, body in blocks:
        commands, answer, start = [], [], first
        for offset, line in enumerate(body):
            if line.startswith("#") and commands:
                answer.append(line[1:].strip() if line == "#" else line[2:])
                continue
            if answer or (not commands and line.strip() == ""):
                if commands:
                    found.append((start, commands, answer))
                commands, answer, start = [], [], first + offset
            if line.strip():
                if not commands:
                    start = first + offset
                commands.append(line)
        if commands:
            found.append((start, commands, answer))
    return found


def adapt(command, base, repo):
    command = command.replace(DOC_BASE, base)
    command = re.sub(r"cargo run --release (-q )?--", '"$bin"', command)
    command = re.sub(r"(?<=[\s'\"@=])tests/", repo + "/tests/", command)
    return command


# -- the documented answers --------------------------------------------------------------------

def loose_json(text):
    """JSON with `...`/`…` elisions outside strings, made into plain JSON."""
    parts, last = [], 0
    for match in STRING.finditer(text):
        parts.append(("code", text[last:match.start()]))
        parts.append(("string", match.group()))
        last = match.end()
    parts.append(("code", text[last:]))
    code = "".join(p if kind == "string" else ELISION.sub("", p) for kind, p in parts)
    # Commas left dangling by the elisions, outside strings again.
    out, last = [], 0
    for match in STRING.finditer(code):
        out.append(tidy(code[last:match.start()]))
        out.append(match.group())
        last = match.end()
    out.append(tidy(code[last:]))
    return json.loads("".join(out))


def tidy(code):
    code = re.sub(r",(\s*,)+", ",", code)
    code = re.sub(r",\s*(?=[}\]])", "", code)
    code = re.sub(r"(?<=[\[{])\s*,", "", code)
    return code


def matches(shown, actual):
    if isinstance(shown, dict):
        return isinstance(actual, dict) and all(
            key in actual and matches(value, actual[key]) for key, value in shown.items())
    if isinstance(shown, list):
        if not isinstance(actual, list):
            return False
        left = list(actual)
        for item in shown:
            hit = next((i for i, a in enumerate(left) if matches(item, a)), None)
            if hit is None:
                return False
            left.pop(hit)
        return True
    if isinstance(shown, str) and isinstance(actual, str):
        if TIMESTAMP.match(shown):
            return bool(TIMESTAMP.match(actual))
        if ELISION.search(shown):
            pattern = ".*".join(re.escape(piece) for piece in ELISION.split(shown))
            return re.fullmatch(pattern, actual, re.S) is not None
        return shown == actual
    if isinstance(shown, bool) or isinstance(actual, bool):
        return shown is actual
    if isinstance(shown, (int, float)) and isinstance(actual, (int, float)):
        return shown == actual
    return shown == actual


def value_matches(shown, actual):
    if ELISION.search(shown):
        pattern = ".*".join(re.escape(piece) for piece in ELISION.split(shown))
        return re.fullmatch(pattern, actual) is not None
    return shown == actual


def json_values(text):
    """Every JSON object or array in a step's output, in order (a step may print several,
    curl's without a newline between them)."""
    decoder, values, i = json.JSONDecoder(), [], 0
    while True:
        starts = [j for j in (text.find("{", i), text.find("[", i)) if j >= 0]
        if not starts:
            return values
        i = min(starts)
        try:
            value, end = decoder.raw_decode(text, i)
            values.append(value)
            i = end
        except ValueError:
            i += 1


def check(answer, output, base):
    """The documented answer against a step's output: a list of (what, ok, detail)."""
    results = []
    answer = [line.replace(DOC_BASE, base) for line in answer]
    head, body = [], []
    for line in answer:
        (body if body or line.lstrip().startswith(("{", "[")) else head).append(line)
    out_lines = output.replace("\r\n", "\n").split("\n")
    status = next((l for l in out_lines if l.startswith("HTTP/")), None)
    headers = {}
    for line in out_lines:
        if line.strip() == "" and status is not None and headers:
            break
        if ":" in line and not line.startswith(("{", "[", " ")):
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
    for line in head:
        if line.startswith("HTTP/"):
            ok = status is not None and status.split(" ", 1)[1].strip() == line.split(" ", 1)[1]
            results.append((f"status {line}", ok, status))
        elif re.match(r"^[A-Za-z][A-Za-z0-9-]*: ", line):
            name, _, value = line.partition(": ")
            got = headers.get(name.lower())
            results.append((f"header {line}", got is not None and value_matches(value, got), got))
    if body:
        shown = loose_json(" ".join(body))
        text = output
        if status is not None:  # curl -i: the body follows the first blank line
            text = output.replace("\r\n", "\n").split("\n\n", 1)[-1]
        answers = json_values(text)
        summary = json.dumps(shown, ensure_ascii=False)
        summary = summary if len(summary) < 90 else summary[:87] + "..."
        results.append((f"JSON {summary}", any(matches(shown, a) for a in answers),
                        text[:2000]))
    return results


def main():
    readme, base, work = sys.argv[1:4]
    repo = os.path.dirname(os.path.abspath(readme))
    serve_args = os.environ.get("README_SERVE_ARGS", "serve --demo")
    all_steps = steps(marked_blocks(open(readme, encoding="utf-8").read()))
    script = ["set -euo pipefail", 'step() { echo "$1" > "$RESULTS/current"; }',
              # Every curl reports its status on stderr, which is kept per step.
              "curl() { command curl -w '%{stderr}curl-status %{http_code}\\n' \"$@\"; }"]
    checked = []
    served = False
    for n, (line, commands, answer) in enumerate(all_steps):
        text = "\n".join(commands)
        serve = re.match(r"^cargo run --release -- (serve.*?)\s*&?$", text.strip())
        if serve:
            if serve.group(1) != serve_args:
                sys.exit(f"README line {line}: the server is started as `{serve.group(1)}`, "
                         f"tests/readme.sh started `{serve_args}`: change one or the other")
            served = True
            continue
        script.append(f"step {n}")
        script.append("{\n" + adapt(text, base, repo) +
                      f'\n}} > "$RESULTS/{n}.out" 2> "$RESULTS/{n}.err"')
        checked.append((n, line, commands, answer))
    if not served:
        sys.exit("no marked block starts the server (`cargo run --release -- serve ...`)")
    results_dir = os.path.join(work, "readme-results")
    os.makedirs(results_dir, exist_ok=True)
    with open(os.path.join(work, "readme-steps.sh"), "w") as file:
        file.write("\n".join(script) + "\n")
    run = subprocess.run(["bash", os.path.join(work, "readme-steps.sh")], cwd=work,
                         env=dict(os.environ, RESULTS=results_dir))
    passed = failed = 0
    for n, line, commands, answer in checked:
        path = os.path.join(results_dir, f"{n}.out")
        if not os.path.exists(path):
            break
        output = open(path, encoding="utf-8", errors="replace").read()
        ran_to_end = run.returncode == 0 or n != int(open(
            os.path.join(results_dir, "current")).read())
        first = commands[0].strip()
        first = first if len(first) < 80 else first[:77] + "..."
        if not ran_to_end:
            failed += 1
            print(f"FAIL README line {line}: `{first}` exited {run.returncode}\n{output[-2000:]}")
            break
        results = check(answer, output, base) if answer else []
        # Every request answered 2xx, but where the README shows a problem (`"status": 4xx`).
        errors = open(os.path.join(results_dir, f"{n}.err"), errors="replace").read()
        statuses = re.findall(r"^curl-status (\d+)$", errors, re.M)
        shows_problem = re.search(r'"status": [45]\d\d', "\n".join(answer)) is not None
        bad = [code for code in statuses if not code.startswith("2")]
        if not shows_problem:
            results.append((f"{len(statuses)} request(s) answered 2xx", not bad,
                            f"statuses {statuses}\n{output[-1500:]}"))
        if not results:
            passed += 1
            print(f"ok   README line {line}: `{first}` ran")
        for what, ok, got in results:
            if ok:
                passed += 1
                print(f"ok   README line {line}: {what}")
            else:
                failed += 1
                print(f"FAIL README line {line}: `{first}`: {what}\n     got: {got}")
    ran = sum(1 for n, *_ in checked if os.path.exists(os.path.join(results_dir, f"{n}.out")))
    if ran < len(checked) and failed == 0:
        failed += 1
        print(f"FAIL only {ran} of {len(checked)} steps ran (bash exited {run.returncode})")
    print(f"readme: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
