"""The README's three pictures, made by chainrule itself at the catalogue example of two_layer_sigmoid.

    .venv/bin/python scripts/readme_images.py [--out docs/images]

- handout.png: page 3 of the PDF handout (the chain rule for ∂L/∂W11, factors, product, the cancellation,
  the boxed result and its value), rasterised by pdftoppm;
- html.png: the HTML page's backward graph with W11 clicked (its paths to the loss lit), by headless Chromium;
- verify.png: `chainrule verify` answering a slipped claim, as a terminal shows it (Chromium, DejaVu Sans Mono).

Same chainrule, TeX Live, poppler and Chromium: byte-identical PNGs (run it twice and compare).
Needs what scripts/setup.sh installs (TeX Live, poppler-utils, chromium, websocket-client).
"""

from __future__ import annotations

import argparse
import base64
import html
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from chromium import Browser  # the tests' DevTools driver

NETWORK = "two_layer_sigmoid"
CLAIM = "(yhat - y)*w1*a1*a1*x1"
VERIFY = ["verify", NETWORK, "--wrt", "W11", "--claim", CLAIM]
TERMINAL = """<!doctype html><meta charset="utf-8"><style>
body {{ margin: 0; background: #fff; }}
pre {{ display: inline-block; margin: 0; padding: 14px 18px; width: 84ch; white-space: pre-wrap; background: #1e1e1e; color: #e6e6e6;
      font: 14px/1.45 "DejaVu Sans Mono", monospace; border-radius: 6px; }}
.prompt {{ color: #7ec699; }} .wrong {{ color: #ff7b72; font-weight: bold; }} .slip {{ color: #ffd866; }}
</style><pre id="terminal"><span class="prompt">$</span> {command}
{output}</pre>"""


def chainrule(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chainrule", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def clip(browser: Browser, png: Path, x: float, y: float, width: float, height: float) -> None:
    shot = browser.call(
        "Page.captureScreenshot",
        format="png",
        clip={"x": x, "y": y, "width": width, "height": height, "scale": 1},
        captureBeyondViewport=True,
    )
    png.write_bytes(base64.b64decode(shot["data"]))


def handout_page(tmp: Path, out: Path) -> None:
    done = chainrule("handout", NETWORK, "-o", "handout.tex", "--pdf", cwd=tmp)
    if done.returncode:
        raise SystemExit(done.stderr)
    # page 3 at 90 dpi, from the section heading to the value of ∂L/∂W11
    subprocess.run(
        ["pdftoppm", "-r", "90", "-f", "3", "-l", "3", "-x", "55", "-y", "55", "-W", "640", "-H", "705",
         "-png", "-singlefile", str(tmp / "handout.pdf"), str(out / "handout")],
        check=True,
    )  # fmt: skip


def html_graph(tmp: Path, out: Path, browser: Browser) -> None:
    done = chainrule("handout", NETWORK, "-o", "handout.html", cwd=tmp)
    if done.returncode:
        raise SystemExit(done.stderr)
    # the backward graph (the page's last figure) with W11 clicked: its paths to the loss are lit
    box = browser.load(
        tmp / "handout.html",
        "document.getElementById('f3-W11').dispatchEvent(new MouseEvent('click', {bubbles: true})),"
        "(() => { const f = [...document.querySelectorAll('figure')].pop().getBoundingClientRect();"
        " return [f.y + scrollY, f.height]; })()",
    )
    if box["errors"]:
        raise SystemExit("\n".join(box["errors"]))
    top, height = box["value"]
    clip(browser, out / "html.png", 120, top - 10, 760, height + 20)


def verify_answer(tmp: Path, out: Path, browser: Browser) -> None:
    done = chainrule(*VERIFY, cwd=tmp)
    if done.returncode != 1:  # the claim is wrong: exit status 1
        raise SystemExit(done.stdout + done.stderr)
    lines = []
    for line in done.stdout.rstrip("\n").splitlines():
        text = html.escape(line)
        if line.endswith(": WRONG"):
            text = f'<span class="wrong">{text}</span>'
        elif line.strip().startswith("likely slip"):
            text = f'<span class="slip">{text}</span>'
        lines.append(text)
    command = "chainrule " + " ".join(VERIFY[:-1]) + f" '{CLAIM}'"
    page = tmp / "verify.html"
    page.write_text(TERMINAL.format(command=html.escape(command), output="\n".join(lines)), encoding="utf-8")
    browser.load(page)
    browser.screenshot(out / "verify.png", selector="#terminal")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="folder for the PNGs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chainrule-images-") as folder:
        tmp = Path(folder)
        handout_page(tmp, args.out.resolve())
        browser = Browser(width=1000, height=800)
        try:
            html_graph(tmp, args.out, browser)
            verify_answer(tmp, args.out, browser)
        finally:
            browser.close()
    for name in ("handout", "html", "verify"):
        print(f"wrote {args.out / (name + '.png')}")


if __name__ == "__main__":
    main()
