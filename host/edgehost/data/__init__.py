"""Human-activity-recognition data for the L2MU demo: loaders for UCI HAPT, WISDM 2019 watch
data and BasicMotions, and the steps from recordings to normalised windows (see docs/datasets.md).

Every loader gives signals in one channel order, CHANNELS = (acc_x, gyro_x, acc_y, gyro_y, acc_z,
gyro_z); windows are X [windows, steps, channels] float32, y int64, subjects int64.
"""
from ._common import (ACC_COLS, CHANNELS, GYRO_COLS, UNLABELLED, DataFormatError, Recording,
                      interleave, segments_from_labels)
from .basicmotions import BASICMOTIONS_RATE_HZ, basic_motions_dir, load_basic_motions, read_ts
from .hapt import (HAPT_ACTIVITIES, HAPT_RATE_HZ, HAPT_UCI_TEST_SUBJECTS, HAPT_UNITS,
                   hapt_pickle_path, load_hapt_pickle, load_hapt_uci)
from .windows import (HAPT_6, ClassSet, Normalization, WindowSet, fit_normalization, make_windows,
                      normalize, resample, resample_recording, resample_segments, select_subjects,
                      split_subjects)
from .wisdm import (WISDM_7, WISDM_ACTIVITIES, WISDM_LABEL_NAMES, WISDM_RATE_HZ, WISDM_UNITS,
                    WisdmFile, WisdmReport, align_streams, load_wisdm_watch, parse_wisdm_file,
                    wisdm_label)

__all__ = [
    "ACC_COLS", "CHANNELS", "GYRO_COLS", "UNLABELLED", "DataFormatError", "Recording", "interleave",
    "segments_from_labels",
    "BASICMOTIONS_RATE_HZ", "basic_motions_dir", "load_basic_motions", "read_ts",
    "HAPT_ACTIVITIES", "HAPT_RATE_HZ", "HAPT_UCI_TEST_SUBJECTS", "HAPT_UNITS", "hapt_pickle_path",
    "load_hapt_pickle", "load_hapt_uci",
    "HAPT_6", "ClassSet", "Normalization", "WindowSet", "fit_normalization", "make_windows",
    "normalize", "resample", "resample_recording", "resample_segments", "select_subjects",
    "split_subjects",
    "WISDM_7", "WISDM_ACTIVITIES", "WISDM_LABEL_NAMES", "WISDM_RATE_HZ", "WISDM_UNITS", "WisdmFile",
    "WisdmReport", "align_streams", "load_wisdm_watch", "parse_wisdm_file", "wisdm_label",
]
