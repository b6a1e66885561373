const { add, sub } = require("./math");

describe("math", () => {
  test("adds", () => {
    expect(add(1, 2)).toBe(3);
  });

  test("subtracts", () => {
    expect(sub(3, 1)).toBe(2);
  });

  test.todo("divides");
});
