# Setup, the same in every chapter (hidden in the book): install rnnbook when it is missing (Colab),
# seed every generator, pick the device (CUDA when present) and read the scale knob RNNBOOK_SCALE.
import importlib.util, os, subprocess, sys
if importlib.util.find_spec("rnnbook") is None:
    source = os.environ.get("RNNBOOK_INSTALL", "rnnbook @ git+https://github.com/rnn-book/rnn-book")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", source], check=True)
import rnnbook
SEED, DEVICE, SCALE = rnnbook.setup()  # the seed: $RNNBOOK_SEED, default 0
