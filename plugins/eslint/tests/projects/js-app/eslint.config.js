import js from "@eslint/js";

export default [
  js.configs.recommended,
  {
    files: ["src/**/*.js"],
    rules: { eqeqeq: "error", "no-console": "warn" },
  },
];
