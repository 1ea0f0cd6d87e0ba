"""Copy GOV.UK Frontend from node_modules into app/static/govuk, and jsQR (the QR decoder the
check-in scanner runs in the browser) into app/static/vendor (run by the Makefile).

The compiled stylesheet points at /assets/...; we serve from /static/govuk/assets instead.
The GDS Transport typeface is licensed for GOV.UK only, so its @font-face rules are dropped
and text falls back to Arial, as the Frontend's own fallback stack intends.
"""
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"
TARGET = ROOT / "app" / "static" / "govuk"
JSQR = ROOT / "node_modules" / "jsqr" / "dist" / "jsQR.js"
VENDOR = ROOT / "app" / "static" / "vendor"


def main() -> int:
    if not SOURCE.exists():
        print(f"{SOURCE} is missing: run npm ci first", file=sys.stderr)
        return 1
    if TARGET.exists():
        shutil.rmtree(TARGET)
    (TARGET / "assets").mkdir(parents=True)
    shutil.copytree(SOURCE / "assets" / "images", TARGET / "assets" / "images")
    shutil.copy(SOURCE / "assets" / "manifest.json", TARGET / "assets" / "manifest.json")
    js = (SOURCE / "govuk-frontend.min.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+", "", js)
    (TARGET / "govuk-frontend.min.js").write_text(js, encoding="utf-8")
    css = (SOURCE / "govuk-frontend.min.css").read_text(encoding="utf-8")
    css = re.sub(r"@font-face\{[^}]*\}", "", css)
    css = re.sub(r"/\*# sourceMappingURL=[^*]*\*/", "", css)
    css = css.replace("url(/assets/", "url(/static/govuk/assets/")
    (TARGET / "govuk-frontend.min.css").write_text(css, encoding="utf-8")
    if not JSQR.exists():
        print(f"{JSQR} is missing: run npm ci first", file=sys.stderr)
        return 1
    VENDOR.mkdir(exist_ok=True)
    js = JSQR.read_text(encoding="utf-8")
    (VENDOR / "jsQR.js").write_text(re.sub(r"//# sourceMappingURL=\S+", "", js), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
