{
  "targets": [
    {
      "target_name": "nsboot",
      "type": "executable",
      "sources": ["csrc/nsboot.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"]
    }
  ]
}
