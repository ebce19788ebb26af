// .npy and safetensors: round trips, files written by NumPy and by the fixture script, and every kind of
// corrupt input giving a clear error.
#include <fstream>

#include "io/file_util.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace sc::test {
namespace {

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A .npy file by hand: version 1.0 header padded to 64 bytes, then the data.
std::string npy_bytes(const std::string& dict, const std::string& data) {
  std::string h = dict;
  h.append((64 - (10 + h.size() + 1) % 64) % 64, ' ');
  h += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  return out + h + data;
}

TEST(Npy, RoundTripEveryWritableDtype) {
  Tensor f = randn({3, 1, 5}, 7);
  const std::string p = temp_path("f32.npy");
  io::write_npy(p, f);
  EXPECT_TRUE(allclose(io::read_npy(p), f, 0));
  for (DType d : {DType::U8, DType::I32, DType::I64}) {
    Tensor t = Tensor::from_vector<float>({0, 3, 250, 17, 9, 1}, {2, 3}).astype(d);
    io::write_npy(p, t);
    const Tensor back = io::read_npy(p);
    EXPECT_EQ(back.dtype(), d);
    EXPECT_TRUE(allclose(back, t, 0));
  }
  Tensor scalar = Tensor::from_vector<float>({2.5f}, {});
  io::write_npy(p, scalar);
  EXPECT_EQ(io::read_npy(p).shape(), Shape{});
  io::write_npy_f64(p, {0.1, -2.0, 1e-300}, {3});
  const Tensor d = io::read_npy(p);
  EXPECT_EQ(d.dtype(), DType::F32);
  EXPECT_EQ(d.to_float_vector(), (std::vector<float>{0.1f, -2.0f, 0.0f}));
}

TEST(Npy, ReadsWhatNumPyWrites) {
  // Bytes as numpy.save writes np.arange(6, dtype='<i8').reshape(2, 3) (format 1.0).
  std::string data;
  for (int64_t i = 0; i < 6; ++i) data.append(reinterpret_cast<const char*>(&i), 8);
  const std::string p = temp_path("numpy.npy");
  write_bytes(p, npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }", data));
  const Tensor t = io::read_npy(p);
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.data<int64_t>()[5], 5);
}

TEST(Npy, CorruptFilesFailClearly) {
  const std::string p = temp_path("bad.npy");
  const std::string four(16, '\x01');
  write_bytes(p, npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", four));
  EXPECT_ERROR_MENTIONS(io::read_npy(p), "bad.npy", "Fortran");
  write_bytes(p, npy_bytes("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", four));
  EXPECT_ERROR_MENTIONS(io::read_npy(p), "unsupported .npy dtype '<c8'");
  write_bytes(p, npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", four));
  EXPECT_ERROR_MENTIONS(io::read_npy(p), "big-endian");
  write_bytes(p, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", four));
  EXPECT_ERROR_MENTIONS(io::read_npy(p), "truncated", "24 bytes", "16");
  write_bytes(p, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", four));
  EXPECT_ERROR_MENTIONS(io::read_npy(p), "trailing");
  write_bytes(p, "not numpy at all");
  EXPECT_ERROR_MENTIONS(io::read_npy(p), "not a .npy file");
  write_bytes(p, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", four).substr(0, 40));
  EXPECT_ERROR_MENTIONS(io::read_npy(p), "truncated .npy header");
  EXPECT_ERROR_MENTIONS(io::read_npy(temp_path("missing.npy")), "cannot open", "missing.npy");
}

TEST(Safetensors, RoundTripWithMetadata) {
  const std::string p = temp_path("rt.safetensors");
  Tensor a = randn({2, 3}, 1), b = Tensor::from_vector<int64_t>({4, -5}, {2});
  Tensor h = randn({5}, 2).astype(DType::BF16), u = Tensor::from_vector<float>({1, 200}, {2}).astype(DType::U8);
  io::write_safetensors(p, {{"layer.weight", a}, {"steps", b}, {"half", h}, {"bytes", u}},
                        {{"arch", "lenet"}, {"note", "quote \" and \\ and \n"}});
  const io::Safetensors st = io::read_safetensors(p);
  ASSERT_EQ(st.tensors.size(), 4u);
  EXPECT_EQ(st.tensors[0].first, "layer.weight");
  EXPECT_TRUE(allclose(st.at("layer.weight"), a, 0));
  EXPECT_TRUE(allclose(st.at("steps"), b, 0));
  EXPECT_EQ(st.at("half").dtype(), DType::BF16);
  EXPECT_EQ(st.at("half").to_float_vector(), h.to_float_vector());
  EXPECT_TRUE(allclose(st.at("bytes"), u, 0));
  EXPECT_EQ(st.metadata.at("arch"), "lenet");
  EXPECT_EQ(st.metadata.at("note"), "quote \" and \\ and \n");
  EXPECT_ERROR_MENTIONS(st.at("nope"), "missing tensor 'nope'");
}

TEST(Safetensors, ReadsTheFixtureScriptsFiles) {
  // Written by tests/fixtures/make_fixtures.py with Python's json and struct, not by our writer.
  const io::Safetensors st = io::read_safetensors(fixture_dir() + "/ops/conv2d.safetensors");
  EXPECT_GT(st.tensors.size(), 10u);
  EXPECT_EQ(st.at("n17_c7_stride2.x").shape(), (Shape{17, 7, 5, 5}));
}

std::string safetensors_bytes(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

TEST(Safetensors, CorruptFilesFailClearly) {
  const std::string p = temp_path("bad.safetensors");
  const std::string data(16, '\x02');
  auto expect = [&](const std::string& header, const std::string& body, std::initializer_list<const char*> frags) {
    write_bytes(p, safetensors_bytes(header, body));
    try {
      io::read_safetensors(p);
      ADD_FAILURE() << "no error for header " << header;
    } catch (const Error& e) {
      for (const char* f : frags) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
    }
  };
  expect(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})", data.substr(0, 12),
         {"truncated", "'w'"});
  expect(R"({"w":{"dtype":"F32","shape":[3,2],"data_offsets":[0,16]}})", data, {"'w'", "24 bytes"});
  expect(R"({"w":{"dtype":"C64","shape":[2],"data_offsets":[0,16]}})", data, {"unsupported dtype 'C64'"});
  expect(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]})", data, {"invalid JSON", "header"});
  expect(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
         data, {"overlap"});
  expect(R"({"w":{"dtype":"F32","shape":[2]}})", data, {"'w'", "data_offsets"});
  expect(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data, {"bad shape"});
  write_bytes(p, std::string("\xff\xff\xff\x00\x00\x00\x00\x00{}", 10));
  EXPECT_ERROR_MENTIONS(io::read_safetensors(p), "truncated", "header announces");
  write_bytes(p, "abc");
  EXPECT_ERROR_MENTIONS(io::read_safetensors(p), "not a safetensors file");
}

TEST(FileUtil, AtomicWriteLeavesNoTemporary) {
  const std::string p = temp_path("atomic.bin");
  io::write_file_atomic(p, "hello");
  EXPECT_EQ(io::read_file(p), "hello");
  std::ifstream tmp(p + ".tmp");
  EXPECT_FALSE(tmp.good());
}

}  // namespace
}  // namespace sc::test
