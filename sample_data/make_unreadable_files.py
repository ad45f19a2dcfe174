"""Write the two order files that tidegate must reject at file level.

Run from anywhere: ``python sample_data/make_unreadable_files.py``. The output is
byte-for-byte deterministic, so re-running it leaves ``git status`` clean.

- ``orders/orders_2024-03_latin1.csv``: a well-formed CSV encoded in latin-1
  (é = 0xE9, ñ = 0xF1, í = 0xED), which is not valid UTF-8. The pipeline declares
  ``encoding: utf-8``, so the file is one file-level quarantine entry.
- ``orders/orders_2024-04.csv``: a 1x1 PNG image saved with a ``.csv`` name
  (binary, contains NUL bytes): not a CSV at all, one file-level quarantine entry.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

LATIN1_CSV = (
    "order_id,customer_id,status,amount,order_date,email,quantity\n"
    "3001,701,shipped,10.00,2024-03-01,josé.garcía@example.es,1\n"
    "3002,702,pending,20.00,2024-03-02,nuñez@example.es,2\n"
    "3003,703,shipped,30.00,2024-03-03,renée@example.fr,1\n"
)


def _png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    idat = zlib.compress(b"\x00\xff\x00\x00", 9)  # filter byte + one red pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def main() -> None:
    orders = HERE / "orders"
    orders.mkdir(parents=True, exist_ok=True)
    (orders / "orders_2024-03_latin1.csv").write_bytes(LATIN1_CSV.encode("latin-1"))
    png = _png_1x1()
    assert b"\x00" in png
    (orders / "orders_2024-04.csv").write_bytes(png)


if __name__ == "__main__":
    main()
