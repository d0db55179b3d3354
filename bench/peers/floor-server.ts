// The floor of a Node.js RunFunction server: @grpc/grpc-js serving the FunctionRunnerService
// method with no protobuf decoding, no function and no encoding (it answers every request with
// the same pre-encoded response). What pgplane costs beyond this is ours (runFunction) or the
// SDK's protobuf codec; this much is the transport's. Used by bench/peers/run.ts.
//
//   node --import tsx bench/peers/floor-server.ts <address> <response.bin>
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { FunctionRunnerServiceService } from '@crossplane-org/function-sdk-typescript';

const [address, responseFile] = process.argv.slice(2);
if (!address || !responseFile) throw new Error('usage: floor-server.ts <address> <response.bin>');
const response = readFileSync(responseFile);
const identity = (b: Buffer): Buffer => b;

const server = new grpc.Server();
server.addService(
  {
    runFunction: {
      ...FunctionRunnerServiceService.runFunction,
      requestDeserialize: identity,
      responseSerialize: identity,
    },
  },
  {
    runFunction: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
      callback(null, response),
  },
);
server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) {
    process.stderr.write(`floor-server: ${err.message}\n`);
    process.exit(1);
  }
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
