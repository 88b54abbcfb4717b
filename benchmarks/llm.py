"""Embedded model benchmark: tokens/s next to raw llama-cpp-python, and time to a first answer.

Reports, in one run:

1. the llama.cpp build (its CPU features as llama.cpp prints them);
2. prompt and decode tokens/s on the same prompt (the analyser's few-shot prompt for one text,
   decoded under its JSON grammar), each in a fresh process: raw llama-cpp-python
   (``Llama.create_chat_completion``) and emoethics' local backend (saved prefixes off, so both
   evaluate the whole prompt), from llama.cpp's own counters, and the ratio of the two;
   raw figures without llama.cpp's weight repacking (``use_extra_bufts``) too; ``--raw-python``
   adds the raw figures of another interpreter's build (e.g. a native build), with and without
   repacking, which is how the build choice was measured;
3. time to a first answer from a fresh process (the CLI, response cache off) for ``analyze``,
   ``rewrite`` and ``judge``: the first process on a machine (nothing saved) and the next one
   (the evaluated prompt prefixes saved by the first), and the one-time check that the llama.cpp
   build can decode on this CPU.

    python benchmarks/llm.py                       # writes benchmarks/results/llm.json
    python benchmarks/llm.py --raw-python /tmp/native-venv/bin/python
    python benchmarks/llm.py --smoke --results-dir /tmp/smoke-llm   # a tiny run (CI)

``--results-dir`` puts ``llm.json`` elsewhere (an explicit ``--output`` still wins). ``--smoke`` is a
tiny run of part 2 only: one fresh process each, raw and through the backend, on a one-line prompt
whose JSON answer is a few tokens (``SMOKE_REQUEST``); no first answers; marked ``"smoke": true``.

Timings are only meaningful on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TEXT = "I can't believe they cancelled my flight again"

# Runs in a fresh interpreter: one chat completion, raw or through the backend; prints llama.cpp's
# counters as JSON. argv: mode (raw|backend), model path, threads, extra_bufts (1|0), request file.
CHILD = r"""
import json, sys, time
mode, path, threads, extra, request = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]
req = json.loads(open(request).read())
import llama_cpp
import llama_cpp.llama_cpp as low
if not extra:  # load without extra buffer types (no weight repacking)
    default = low.llama_model_default_params
    def params():
        p = default()
        p.use_extra_bufts = False
        return p
    low.llama_model_default_params = params
t0 = time.perf_counter()
if mode == "raw":
    llm = llama_cpp.Llama(model_path=path, n_ctx=4096, n_threads=threads, verbose=False)
    low.llama_perf_context_reset(llm.ctx)
    t1 = time.perf_counter()
    out = llm.create_chat_completion(messages=req["messages"], temperature=0.0, max_tokens=req["max_tokens"],
                                     seed=0, response_format={"type": "json_object", "schema": req["schema"]})
else:
    from emoethics.llm.local import LocalBackend
    b = LocalBackend(path, prefix_states=False)
    llm = b.llama()
    low.llama_perf_context_reset(llm.ctx)
    t1 = time.perf_counter()
    b.chat_json(req["messages"], req["schema"], lambda data: data, max_tokens=req["max_tokens"])
t2 = time.perf_counter()
perf = low.llama_perf_context(llm.ctx)
print(json.dumps({"load_s": t1 - t0, "call_s": t2 - t1, "n_prompt": perf.n_p_eval, "prompt_ms": perf.t_p_eval_ms,
                  "n_decode": perf.n_eval, "decode_ms": perf.t_eval_ms,
                  "system": llama_cpp.llama_print_system_info().decode().strip()}))
"""


#: ``--smoke``'s request: a one-line prompt and a schema whose answer is a handful of tokens (the
#: analyser's few-shot prompt alone takes a minute to evaluate on a busy 2-core machine).
SMOKE_REQUEST = {
    "messages": [{"role": "user", "content": f"In one word, the main emotion of this text: {TEXT}"}],
    "schema": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "emotion": {
                "type": "string",
                "enum": ["joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation"],
            }
        },
        "required": ["emotion"],
    },
    "max_tokens": 16,
}


def request(smoke: bool = False) -> dict:
    """The analyser's messages and schema for TEXT (what `emoethics analyze` sends); or, with
    ``smoke``, :data:`SMOKE_REQUEST`."""
    if smoke:
        return SMOKE_REQUEST
    from emoethics.emotions.analysis import LLMAnalyzer
    from emoethics.llm.local import LocalBackend, grammar_safe

    analyzer = LLMAnalyzer(LocalBackend(prefix_states=False), "plutchik")  # the model is not loaded here
    return {"messages": analyzer.messages(TEXT), "schema": grammar_safe(analyzer.schema), "max_tokens": 440}


def run_child(python: str, mode: str, path: Path, threads: int, extra: bool, req_file: Path) -> dict:
    done = subprocess.run(
        [python, "-c", CHILD, mode, str(path), str(threads), "1" if extra else "0", str(req_file)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        return {"error": f"exit {done.returncode}: {(done.stderr.strip().splitlines() or [''])[-1]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarise(runs: list[dict]) -> dict:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[0]["error"]}
    pps = [r["n_prompt"] / r["prompt_ms"] * 1000 for r in ok]
    dps = [r["n_decode"] / r["decode_ms"] * 1000 for r in ok]
    return {
        "prompt_tokens": ok[0]["n_prompt"],
        "decode_tokens": ok[0]["n_decode"],
        "prompt_tok_s": round(statistics.median(pps), 1),
        "decode_tok_s": round(statistics.median(dps), 2),
        "load_s": round(statistics.median(r["load_s"] for r in ok), 2),
        "call_s": round(statistics.median(r["call_s"] for r in ok), 2),
        "runs": len(ok),
        "system": ok[0]["system"],
    }


def throughput(path: Path, threads: int, repeats: int, raw_pythons: list[str], smoke: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        req_file = Path(tmp) / "request.json"
        req_file.write_text(json.dumps(request(smoke)))
        out: dict = {}
        configs = [
            ("raw", sys.executable, "raw", True),
            ("emoethics", sys.executable, "backend", True),
        ]
        if not smoke:
            configs.append(("raw (no repacking)", sys.executable, "raw", False))
        for py in raw_pythons:
            configs += [(f"raw {py}", py, "raw", True), (f"raw {py} (no repacking)", py, "raw", False)]
        for name, py, mode, extra in configs:
            out[name] = summarise([run_child(py, mode, path, threads, extra, req_file) for _ in range(repeats)])
            print(f"  {name:<50} {out[name]}", flush=True)
        if "error" not in out["raw"] and "error" not in out["emoethics"]:
            out["ratio_prompt"] = round(out["emoethics"]["prompt_tok_s"] / out["raw"]["prompt_tok_s"], 3)
            out["ratio_decode"] = round(out["emoethics"]["decode_tok_s"] / out["raw"]["decode_tok_s"], 3)
        return out


COMMANDS = {
    "analyze": ["analyze", TEXT, "--json"],
    "rewrite": ["rewrite", "The meeting moved to Friday.", "--emotion", "anger", "--intensity", "0.9", "--json"],
    "judge": ["judge", "I found a wallet with 200 dollars and kept it.", "--json"],
}


def first_answers(model_dir: Path) -> dict:
    """Wall time of fresh CLI processes: nothing saved, then with the first one's saved prefixes."""
    from emoethics.llm.cpu_check import check_decodes
    from emoethics.llm.weights import resolve_model_path

    cli = str(Path(sys.executable).with_name("emoethics"))
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        (cache / "models").symlink_to(model_dir)
        env = {**os.environ, "EMOETHICS_CACHE_DIR": str(cache)}
        os.environ["EMOETHICS_CACHE_DIR"] = str(cache)
        _, path = resolve_model_path()
        t0 = time.perf_counter()
        check_decodes(path, os.cpu_count() or 1)
        out["build_check_s"] = round(time.perf_counter() - t0, 2)
        print(f"  one-time build check: {out['build_check_s']} s", flush=True)
        for name, args in COMMANDS.items():
            times = []
            for label in ("nothing saved", "prefix saved"):
                t0 = time.perf_counter()
                done = subprocess.run([cli, *args, "--no-cache"], capture_output=True, text=True, env=env, timeout=1800)
                seconds = time.perf_counter() - t0
                if done.returncode != 0:
                    raise SystemExit(f"{name} failed: {done.stderr.strip()}")
                times.append(round(seconds, 2))
                print(f"  {name:<8} {label:<14} {seconds:6.1f} s", flush=True)
            out[name] = {"nothing_saved_s": times[0], "prefix_saved_s": times[1]}
        del os.environ["EMOETHICS_CACHE_DIR"]
        shutil.rmtree(cache / "prefix-states", ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument(
        "--repeats", type=int, default=None, help="fresh processes per throughput figure (default 3; 1 with --smoke)"
    )
    ap.add_argument(
        "--raw-python",
        action="append",
        default=[],
        help="another interpreter whose llama-cpp-python build to measure raw (repeatable)",
    )
    ap.add_argument("--skip-first-answer", action="store_true")
    ap.add_argument("-o", "--output", type=Path, default=None, help="default: RESULTS_DIR/llm.json")
    ap.add_argument("--results-dir", type=Path, default=RESULTS, help="default: benchmarks/results (created)")
    ap.add_argument(
        "--smoke", action="store_true", help="a tiny run: one process each on a few-token answer, no first answers (CI)"
    )
    args = ap.parse_args()
    if args.repeats is None:
        args.repeats = 1 if args.smoke else 3
    args.output = args.output or args.results_dir / "llm.json"

    from emoethics.llm.weights import resolve_model_path

    _, path = resolve_model_path()
    result: dict = {"model": path.name, "threads": args.threads, "cpu": cpu_name()}
    if args.smoke:
        result["smoke"] = True
    print(f"tokens/s, {path.name}, {args.threads} threads, {args.repeats} fresh processes each:")
    result["throughput"] = throughput(path, args.threads, args.repeats, args.raw_python, args.smoke)
    if not (args.skip_first_answer or args.smoke):
        print("time to a first answer from a fresh process (response cache off):")
        result["first_answer"] = first_answers(path.parent)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output}")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    main()
