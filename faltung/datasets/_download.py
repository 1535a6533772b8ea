"""Downloading a dataset file into the cache, safely.

The bytes go to a temporary file IN the destination folder; the file is checked (``verify``
raises ValueError) and only then moved into place with ``os.replace`` (atomic). A failed,
interrupted or corrupted download removes the temporary file, so the cache never holds a
partial or wrong file.
"""
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

#: the URL opener; a module attribute so that tests can serve local bytes instead of the network
urlopen = urllib.request.urlopen

CHUNK = 1 << 20


def _progress(name, done, total):
    if total:
        bar = int(30 * done / total)
        sys.stderr.write(f"\rDownloading {name}: [{'#' * bar}{'.' * (30 - bar)}] "
                         f"{100 * done // total:3d}% {done / 1e6:.1f}/{total / 1e6:.1f} MB")
    else:
        sys.stderr.write(f"\rDownloading {name}: {done / 1e6:.1f} MB")
    sys.stderr.flush()


def _fetch_to(url, tmp_file, name, timeout):
    with urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        try:
            while True:
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                tmp_file.write(chunk)
                done += len(chunk)
                _progress(name, done, total)
        finally:
            sys.stderr.write("\n")
        if total and done != total:
            raise OSError(f"download of {url} ended after {done} of {total} bytes")


def download(urls, destination, verify, timeout=60):
    """Fetch the first URL of ``urls`` that works into ``destination`` after ``verify(tmp_path)``.

    Network failures try the next mirror; if all fail, ``OSError``. A file that arrives but fails
    ``verify`` raises ``ValueError`` (after trying the other mirrors). Nothing is left behind on failure.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    errors, bad_content = [], None
    for url in urls:
        fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as tmp_file:
                _fetch_to(url, tmp_file, destination.name, timeout)
            verify(tmp)
            os.replace(tmp, destination)
            return destination
        except ValueError as err:
            bad_content = err
            errors.append(f"{url}: {err}")
        except (OSError, urllib.error.URLError) as err:   # URLError is an OSError; listed for the reader
            errors.append(f"{url}: {err}")
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    if bad_content is not None:
        raise ValueError(f"{destination.name}: download failed the checksum; nothing was saved. "
                         + "; ".join(errors))
    raise OSError(f"could not download {destination.name}; nothing was saved. " + "; ".join(errors))
