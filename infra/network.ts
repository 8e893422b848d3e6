/**
 * The network of the functions: private subnets whose only way out to the internet is one NAT
 * gateway on a fixed Elastic IP, the single source address the transfer point sees (and may
 * have to allow). S3 and DynamoDB are reached through free gateway endpoints, so the 1.8 GB a
 * declaration can weigh is not billed twice as NAT traffic on its way in from the bucket.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Options of TransferNetwork. */
export interface TransferNetworkProps {
  /**
   * Allocation id of an existing Elastic IP for the NAT gateway. Absent: a new one is created
   * and retained when the stack is deleted.
   */
  eipAllocationId?: string;
  /** Days the VPC flow logs are kept. Default: 90. */
  flowLogRetention?: logs.RetentionDays;
}

/** The VPC, its NAT gateway on a fixed Elastic IP, the flow logs and the gateway endpoints. */
export class TransferNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  /** The Elastic IP the stack created, when it created one. */
  readonly eip?: ec2.CfnEIP;
  /** Allocation id of the Elastic IP of the NAT gateway (created or given). */
  readonly eipAllocationId: string;
  /** Security group of the functions: outbound only. */
  readonly functionSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: TransferNetworkProps = {}) {
    super(scope, id);

    if (props.eipAllocationId === undefined) {
      // Retained: the transfer point may know us by this address. Deleting the stack must not
      // give it back to the pool; a new stack can take it over with -c eipAllocationId=....
      this.eip = new ec2.CfnEIP(this, 'NatEip', {
        domain: 'vpc',
        tags: [{ key: 'Name', value: 'onss-transfer-nat' }],
      });
      this.eip.applyRemovalPolicy(RemovalPolicy.RETAIN);
      this.eipAllocationId = this.eip.attrAllocationId;
    } else {
      this.eipAllocationId = props.eipAllocationId;
    }

    // One NAT gateway in one AZ: one source address to register and one gateway to pay for.
    // The trade-off: while that AZ is down, neither function reaches the transfer point (the
    // queue keeps the declarations; they are sent once it is back).
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.80.0.0/20'),
      maxAzs: 2,
      natGateways: 1,
      natGatewayProvider: ec2.NatProvider.gateway({ eipAllocationIds: [this.eipAllocationId] }),
      subnetConfiguration: [
        {
          name: 'nat',
          subnetType: ec2.SubnetType.PUBLIC,
          cidrMask: 26,
          mapPublicIpOnLaunch: false,
        },
        { name: 'functions', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
      ],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });

    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    // FTP opens data connections on ports the server picks (passive mode), so outbound
    // traffic cannot be narrowed to a port list; nothing is allowed in.
    this.functionSecurityGroup = new ec2.SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc: this.vpc,
      description: 'onss-transfer functions: outbound only (transfer point, AWS APIs)',
      allowAllOutbound: true,
    });
  }
}
