import type { Command } from 'commander';
import { doctor, formatDoctorReport } from '../../src/runtime/doctor.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('show the Node and onnxruntime versions, which execution providers load here (and why not), and how to enable CUDA')
    .option('--json', 'print the report as JSON')
    .action(async (o: { json?: boolean }) => {
      const report = await doctor();
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatDoctorReport(report)}\n`);
    });
}
