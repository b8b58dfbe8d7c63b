// Virtual Machine Contributor on one target resource group. Site Recovery checks that the caller who enables
// replication and fails over may create, read and delete the VM, its NICs and disks in the target group
// (test failover VMs too), and test failover cleanup deletes them again.
param principalId string

var virtualMachineContributor = '9980e02c-c2be-4d73-94e8-173b1dc7cf3c'

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, principalId, virtualMachineContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', virtualMachineContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
