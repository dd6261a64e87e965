import numpy as np

from keras_seq import plots


def test_text_image_shades_every_other_row_and_clips():
    image = np.array(
        [
            [0.0, 1.0, 0.5],
            [1.0, 1.0, 1.0],  # every other row is left out
            [-0.3, 2.0, 0.25],
        ]
    )
    assert plots.text_image(image) == " @=\n @:"
