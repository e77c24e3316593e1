/**
 * `deno lint` rules for the size of production code: a file of at most 600
 * lines and a function of at most 120, so that each reads in one sitting.
 * Tests, benchmarks' probes and generated files are not held to them.
 *
 * @module
 */

const MAX_FILE_LINES = 600;
const MAX_FUNCTION_LINES = 120;

/** Paths the rules apply to: production code only. */
function isProduction(filename: string): boolean {
  return /\/(src|servers|devices|demo|cli|web|scripts)\//.test(filename) &&
    !/\/tests\//.test(filename);
}

function lineCount(text: string): number {
  return text.split("\n").length;
}

const plugin: Deno.lint.Plugin = {
  name: "tmk",
  rules: {
    "file-length": {
      create(context) {
        return {
          Program(node) {
            if (!isProduction(context.filename)) return;
            const n = lineCount(context.sourceCode.text.replace(/\n$/, ""));
            if (n > MAX_FILE_LINES) {
              context.report({
                node,
                message: `this file has ${n} lines; split it by job (at most ${MAX_FILE_LINES})`,
              });
            }
          },
        };
      },
    },
    "function-length": {
      create(context) {
        const check = (node: Deno.lint.Node) => {
          if (!isProduction(context.filename)) return;
          const n = lineCount(context.sourceCode.getText(node));
          if (n > MAX_FUNCTION_LINES) {
            context.report({
              node,
              message:
                `this function has ${n} lines; split it into steps (at most ${MAX_FUNCTION_LINES})`,
            });
          }
        };
        return {
          FunctionDeclaration: check,
          FunctionExpression: check,
          ArrowFunctionExpression: check,
        };
      },
    },
  },
};

export default plugin;
