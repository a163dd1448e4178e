"""Render BPMN files to PNG with bpmn-js in a real browser (Debian's chromium).

Usage: python scripts/render_diagrams.py [FILE.bpmn ...]   (default: every file in processes/)
Writes docs/diagrams/<key>.png and prints one line per file, with any bpmn-js import warnings.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 - after the path is set

MODULES = ROOT / "node_modules"
OUT = ROOT / "docs" / "diagrams"

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="{modules}/bpmn-js/dist/assets/bpmn-js.css">
<style>
@font-face {{ font-family: Sarabun; src: url({modules}/@fontsource/sarabun/files/sarabun-thai-400-normal.woff2); }}
@font-face {{ font-family: Sarabun; src: url({modules}/@fontsource/sarabun/files/sarabun-latin-400-normal.woff2);
  unicode-range: U+0000-00FF; }}
html, body, #canvas {{ margin: 0; width: 100%; height: 100%; background: white; }}
.djs-label, text {{ font-family: Sarabun, sans-serif !important; }}
</style>
<script src="{modules}/bpmn-js/dist/bpmn-navigated-viewer.production.min.js"></script>
<script>
// Measure labels in the font they are drawn in, or Thai labels spill out of their shapes.
const TEXT_RENDERER = {{ defaultStyle: {{ fontFamily: 'Sarabun, sans-serif', fontSize: 12 }},
                         externalStyle: {{ fontFamily: 'Sarabun, sans-serif', fontSize: 11 }} }};
</script>
</head><body><div id="canvas"></div></body></html>"""


def render(files: list[Path]) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        page_file = Path(tmp) / "render.html"
        page_file.write_text(PAGE.format(modules=MODULES.as_uri()), encoding="utf-8")
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 2400, "height": 1400})
        for path in files:
            page.goto(page_file.as_uri())
            page.evaluate("document.fonts.load('16px Sarabun', 'ก')")
            result = page.evaluate(
                """async (xml) => {
                    const viewer = new BpmnJS({ container: '#canvas', textRenderer: TEXT_RENDERER });
                    try {
                        const { warnings } = await viewer.importXML(xml);
                        const canvas = viewer.get('canvas');
                        const box = canvas.viewbox().inner;
                        canvas.viewbox({ x: box.x - 20, y: box.y - 20,
                                         width: box.width + 40, height: box.height + 40 });
                        return { ok: true, warnings: warnings.map(w => w.message),
                                 width: box.width + 40, height: box.height + 40 };
                    } catch (err) {
                        return { ok: false, warnings: [String(err)] };
                    }
                }""",
                path.read_text(encoding="utf-8"),
            )
            if not result["ok"]:
                failures += 1
                print(f"{path.name}: FAILED {json.dumps(result['warnings'], ensure_ascii=False)}")
                continue
            width = min(int(result["width"]) + 1, 4000)
            height = min(int(result["height"]) + 1, 3000)
            page.set_viewport_size({"width": width, "height": height})
            page.evaluate(
                "() => { const c = document.querySelector('#canvas');"
                " return new Promise(r => requestAnimationFrame(r)); }"
            )
            # Re-import at the final size so the diagram fills the picture.
            page.evaluate(
                """async (xml) => {
                    document.querySelector('#canvas').innerHTML = '';
                    const viewer = new BpmnJS({ container: '#canvas', textRenderer: TEXT_RENDERER });
                    await viewer.importXML(xml);
                    viewer.get('canvas').zoom('fit-viewport');
                }""",
                path.read_text(encoding="utf-8"),
            )
            page.evaluate("document.fonts.ready")
            target = OUT / f"{path.stem}.png"
            page.screenshot(path=str(target))
            warn = "; ".join(result["warnings"]) or "no warnings"
            print(f"{path.name}: {target.relative_to(ROOT)} ({width}x{height}) {warn}")
        browser.close()
    return failures


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or sorted((ROOT / "processes").glob("*.bpmn"))
    return 1 if render(files) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
