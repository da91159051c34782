// The Python interpreter for tests that run real Python code (container components, ONNX export): the
// virtual environment test/support/python-venv.sh creates. A test that needs it and finds it missing fails
// with the command that installs it; it never skips.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const repoRoot = join(__dirname, '..', '..');
const venvPython = join(repoRoot, '.venv-test', 'bin', 'python');

/** Absolute path of the test venv's python, after checking that `modules` import in it. */
export function testPython(modules: readonly string[] = []): string {
  const install = `bash test/support/python-venv.sh (from ${repoRoot})`;
  if (!existsSync(venvPython)) {
    throw new Error(`the test Python environment is missing: run ${install}`);
  }
  if (modules.length > 0) {
    try {
      execFileSync(venvPython, ['-c', `import ${modules.join(', ')}`], { stdio: 'pipe' });
    } catch (error) {
      const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim().split('\n').pop();
      throw new Error(`the test Python environment cannot import ${modules.join(', ')} (${stderr}): run ${install}`);
    }
  }
  return venvPython;
}
