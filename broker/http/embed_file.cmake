# cmake -DINPUT=<file> -DOUTPUT=<cpp> -DSYMBOL=<function name> -P embed_file.cmake
# Writes a .cpp defining `std::string_view passerelle::http::<SYMBOL>()` that returns the file's bytes.
# Bytes are emitted as a hex array, so any content (quotes, backslashes, ")delim\"") embeds unchanged.
file(READ "${INPUT}" content HEX)
string(LENGTH "${content}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${content}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by embed_file.cmake. Do not edit.\n"
  "#include <string_view>\n"
  "namespace passerelle::http {\n"
  "namespace { constexpr char data[] = {${bytes} '\\0'}; }\n"
  "std::string_view ${SYMBOL}() { return std::string_view(data, ${size}); }\n"
  "}  // namespace passerelle::http\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
