package io.reflex.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.reflex.crds.v1alpha1.ClaimPolicy;
import io.reflex.crds.v1alpha1.Engine;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class DeviceSpecTest {
  @Test
  void aPlainPathIsAnIoUringDeviceWithTheSampleModelNeverClaimed() {
    DeviceSpec s = DeviceSpec.parse("/var/tmp/a.img");
    assertThat(s.target()).isEqualTo("/var/tmp/a.img");
    assertThat(s.engine()).isEqualTo(Engine.URING);
    assertThat(s.model()).isEqualTo("sample");
    assertThat(s.claim()).isEqualTo(ClaimPolicy.Never);
    assertThat(s.glob()).isFalse();
  }

  @Test
  void optionsAreParsed() {
    DeviceSpec s = DeviceSpec.parse("/dev/nvme*n1, engine=file, model=aws-i3, claim=IfUnused, capacity=64Gi");
    assertThat(s.engine()).isEqualTo(Engine.FILE);
    assertThat(s.model()).isEqualTo("aws-i3");
    assertThat(s.claim()).isEqualTo(ClaimPolicy.IfUnused);
    assertThat(s.capacity()).isEqualTo("64Gi");
    assertThat(s.glob()).isTrue();
  }

  @Test
  void aPciAddressDefaultsToTheUserSpaceEngine() {
    DeviceSpec s = DeviceSpec.parse("0000:00:04.0,claim=IfUnused,name=fast-1");
    assertThat(s.pci()).isTrue();
    assertThat(s.engine()).isEqualTo(Engine.SPDK);
    assertThat(s.name()).isEqualTo("fast-1");
  }

  @Test
  void aFileTheAgentCreates() {
    assertThat(DeviceSpec.parse("/var/lib/reflex/a.img,create=2Gi").create()).isEqualTo("2Gi");
    assertThatThrownBy(() -> DeviceSpec.parse("/dev/vdb,create=2Gi")).hasMessageContaining("plain file");
    assertThatThrownBy(() -> DeviceSpec.parse("/var/*.img,create=2Gi")).hasMessageContaining("plain file");
  }

  @Test
  void mistakesAreNamedClearly() {
    assertThatThrownBy(() -> DeviceSpec.parse("relative.img")).hasMessageContaining("absolute path");
    assertThatThrownBy(() -> DeviceSpec.parse("/a,engine=zfs")).hasMessageContaining("engine must be");
    assertThatThrownBy(() -> DeviceSpec.parse("/a,colour=red")).hasMessageContaining("unknown key 'colour'");
    assertThatThrownBy(() -> DeviceSpec.parse("/a,model")).hasMessageContaining("key=value");
    assertThatThrownBy(() -> DeviceSpec.parse("/a,model=x,model=y")).hasMessageContaining("given twice");
    assertThatThrownBy(() -> DeviceSpec.parse("/a,engine=spdk")).hasMessageContaining("PCI function");
    assertThatThrownBy(() -> DeviceSpec.parse("/a,engine=memory")).hasMessageContaining("capacity");
    assertThatThrownBy(() -> DeviceSpec.parse("/a,name=Bad_Name")).hasMessageContaining("not a valid Kubernetes name");
    assertThatThrownBy(() -> DeviceSpec.parse("/a,claim=always")).hasMessageContaining("Never or IfUnused");
  }

  @Property(tries = 2000)
  void anyInputParsesOrIsRefusedWithAnIllegalArgumentException(@ForAll String input) {
    try {
      DeviceSpec s = DeviceSpec.parse(input);
      assertThat(s.target()).isNotBlank();
    } catch (IllegalArgumentException expected) {
      assertThat(expected.getMessage()).isNotBlank();
    }
  }
}
