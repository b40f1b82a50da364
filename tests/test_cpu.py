"""tf_lstm.app.cpu: the CPU's flags from /proc/cpuinfo and the environment's ISA caps."""

from tf_lstm.app import cpu

CPUINFO = """processor\t: 0
model name\t: Example CPU
flags\t\t: fpu sse2 avx2 fma avx512f avx512_bf16 amx_tile
processor\t: 1
model name\t: Other CPU
flags\t\t: fpu
"""


def test_cpu_info_reads_the_first_processor(tmp_path):
  path = tmp_path / "cpuinfo"
  path.write_text(CPUINFO)
  info = cpu.cpu_info(str(path))
  assert info["model"] == "Example CPU"
  assert {"avx2", "avx512_bf16", "amx_tile"} <= info["flags"] and "sse3" not in info["flags"]
  assert cpu.speed_flags(info["flags"]) == ["avx2", "fma", "avx512f", "avx512_bf16", "amx_tile"]
  assert cpu.native_bfloat16(info["flags"]) == ["avx512_bf16"]


def test_cpu_info_of_an_unreadable_file_is_empty(tmp_path):
  assert cpu.cpu_info(str(tmp_path / "missing")) == {"model": "", "flags": set()}


def test_isa_limits_lists_only_the_caps_that_are_set():
  env = {"ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
         "ATEN_CPU_CAPABILITY": "", "PATH": "/bin"}
  assert cpu.isa_limits(env) == {"ONEDNN_MAX_CPU_ISA": "AVX2",
                                 "MKL_ENABLE_INSTRUCTIONS": "AVX2"}
  assert cpu.isa_limits({}) == {}


def test_onednn_bfloat16_cap_only_where_tensorflow_would_hand_bfloat16_to_it():
  avx512 = {"avx2", "avx512f", "avx512_bf16"}
  cap = lambda env, flags=avx512: cpu.onednn_bfloat16_cap(env, flags)
  assert cap({"ONEDNN_MAX_CPU_ISA": "AVX2"}) == "ONEDNN_MAX_CPU_ISA=AVX2"
  assert cap({"DNNL_MAX_CPU_ISA": "avx", "TF_ENABLE_ONEDNN_OPTS": "1"}) == "DNNL_MAX_CPU_ISA=avx"
  # Caps that keep bfloat16 (AVX512_CORE emulates it), oneDNN off, no oneDNN cap, or a
  # CPU without AVX-512 (TensorFlow keeps bfloat16 off oneDNN there): nothing.
  assert cap({"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}) is None
  assert cap({"ONEDNN_MAX_CPU_ISA": "AVX2", "TF_ENABLE_ONEDNN_OPTS": "0"}) is None
  assert cap({"MKL_ENABLE_INSTRUCTIONS": "AVX2"}) is None
  assert cap({"ONEDNN_MAX_CPU_ISA": "AVX2"}, {"avx2", "fma"}) is None
